"""The floor for bench/api_load.py: a bare Flask JSON endpoint, served by gunicorn the same way."""

from flask import Flask, jsonify

app = Flask(__name__)


@app.get("/hello")
def hello():
    return jsonify(hello="world")
