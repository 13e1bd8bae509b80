from flask import Blueprint

bp = Blueprint("recording", __name__)
