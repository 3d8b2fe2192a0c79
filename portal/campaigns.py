"""The 1x1 image in a campaign email that tracks opens (only campaigns that ask for it)."""
import base64

from flask import Blueprint, Response

from services import campaign_results

bp = Blueprint("campaigns", __name__)

# The smallest transparent GIF.
PIXEL = base64.b64decode("R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7")


@bp.route("/o/<token>.gif")
def open_pixel(token):
    # The same image whatever the token: the address reveals nothing about anyone.
    campaign_results.record_open(token)
    return Response(PIXEL, mimetype="image/gif")
