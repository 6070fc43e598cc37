"""The baseline: a plain Flask "hello", served the same way as Alliance."""

from flask import Flask

app = Flask(__name__)


@app.get("/")
def hello() -> str:
    """Return a constant string."""
    return "hello"
