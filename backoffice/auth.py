"""Staff sign-in and sign-out, and the password change."""
from services import accounts
from services.actors import Actor
from webcore.views import auth_blueprint, password_blueprint

bp = auth_blueprint(accounts.authenticate_staff, "backoffice/auth/login.html", "dashboard.index")
password_bp = password_blueprint("backoffice/account/password.html", "dashboard.index",
                                 Actor.for_staff)
