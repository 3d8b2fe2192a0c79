"""Customer sign-in and sign-out, and the password change."""
from services import accounts
from services.actors import Actor
from webcore.views import auth_blueprint, password_blueprint

bp = auth_blueprint(accounts.authenticate_customer, "portal/auth/login.html", "home.index")
password_bp = password_blueprint("portal/account/password.html", "home.index",
                                 Actor.for_customer)
