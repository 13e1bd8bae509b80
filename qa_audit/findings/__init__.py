from flask import Blueprint

bp = Blueprint("findings", __name__)
