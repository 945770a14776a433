"""The application factory, configuration, error pages and security headers."""

from __future__ import annotations

from oralhist import create_app


def test_env_overrides_instance_config(tmp_path, monkeypatch):
    instance = tmp_path / "instance"
    instance.mkdir()
    (instance / "config.py").write_text("SECRET_KEY = 'from-file'\nPER_PAGE = 7\n")
    monkeypatch.setenv("OH_PER_PAGE", "11")
    monkeypatch.setenv("OH_MEDIA_ROOT", str(tmp_path / "elsewhere"))
    app = create_app(instance_path=str(instance))
    assert app.config["SECRET_KEY"] == "from-file"
    assert app.config["PER_PAGE"] == 11
    assert app.config["MEDIA_ROOT"] == str(tmp_path / "elsewhere")
    assert app.config["SQLALCHEMY_DATABASE_URI"] == f"sqlite:///{instance / 'oralhist.sqlite3'}"


def test_no_secret_key_in_code(tmp_path):
    app = create_app(instance_path=str(tmp_path / "instance"))
    other = create_app(instance_path=str(tmp_path / "instance"))
    assert app.config["OH_EPHEMERAL_SECRET"] is True
    assert app.config["SECRET_KEY"] != other.config["SECRET_KEY"]


def test_app_start_does_not_create_tables(tmp_path):
    from sqlalchemy import inspect

    from oralhist.extensions import db

    (tmp_path / "instance").mkdir()
    app = create_app(instance_path=str(tmp_path / "instance"))
    with app.app_context():
        assert inspect(db.engine).get_table_names() == []


def test_security_headers_and_cookie_flags(app, browser):
    client = browser("researcher")
    response = client.get("/")
    assert response.status_code == 200
    csp = response.headers["Content-Security-Policy"]
    assert "default-src 'self'" in csp and "frame-ancestors 'none'" in csp
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["Referrer-Policy"] == "same-origin"
    assert app.config["SESSION_COOKIE_HTTPONLY"] is True
    assert app.config["SESSION_COOKIE_SAMESITE"] == "Lax"


def test_session_cookie_flags_on_the_wire(app, users):
    client = app.test_client()
    page = client.get("/login").get_data(as_text=True)
    import re

    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    response = client.post(
        "/login",
        data={
            "email": "researcher@example.org",
            "password": "correct horse battery",
            "csrf_token": token,
        },
    )
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_html_and_json_errors(app, browser):
    client = browser()
    page = client.get("/interviews/999999")
    assert page.status_code == 404
    assert "text/html" in page.headers["Content-Type"]
    assert "There is no interview 999999" in page.get_data(as_text=True)
    api = client.get("/api/v1/interviews/999999")
    assert api.status_code == 404
    assert api.json["error"]["code"] == "not_found"
    assert api.json["error"]["message"]
    assert client.get("/no/such/page").status_code == 404
    assert client.get("/api/v1/nothing").json["error"]["code"] == "not_found"


def test_no_external_resources_in_pages(browser):
    import re

    html = browser().get("/").get_data(as_text=True)
    for url in re.findall(r'(?:src|href)="([^"]+)"', html):
        assert not url.startswith(("http:", "https:", "//")), url
