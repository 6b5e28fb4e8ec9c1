from models import ApiToken, AuditLog
from tests import factories
from tracker.extensions import db


def test_create_token_is_shown_once_and_stored_hashed(app, client, as_user):
    user = factories.user("nodal")
    as_user(user)
    response = client.post("/profile/", data={"name": "Health MIS"})
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    plain = html.split('<code id="new-token">')[1].split("</code>")[0]
    assert plain.startswith("rt_") and len(plain) > 40
    token = db.session.execute(db.select(ApiToken)).scalar_one()
    assert token.token_hash != plain and plain not in token.token_hash
    assert token.name == "Health MIS"
    again = client.get("/profile/").get_data(as_text=True)
    assert plain not in again and "Health MIS" in again
    assert client.get("/api/v1/departments", headers={"Authorization": f"Bearer {plain}"}).status_code == 200
    assert db.session.execute(db.select(AuditLog).filter_by(entity="api_token")).scalar()


def test_token_name_is_required(app, client, as_user):
    as_user(factories.user("nic"))
    response = client.post("/profile/", data={"name": ""})
    assert response.status_code == 422
    assert 'id="name-error"' in response.get_data(as_text=True)
    assert db.session.execute(db.select(ApiToken)).first() is None


def test_revoke_token_and_cannot_revoke_someone_elses(app, client, as_user):
    from tracker.operations.tokens import create_token

    owner = factories.user("nic")
    other = factories.user("nic")
    mine, plain = create_token(owner, "mine")
    theirs, _ = create_token(other, "theirs")
    db.session.commit()
    as_user(owner)
    assert client.post(f"/profile/tokens/{theirs.id}/revoke").status_code == 404
    assert client.post(f"/profile/tokens/{mine.id}/revoke").status_code == 302
    db.session.refresh(mine)
    db.session.refresh(theirs)
    assert mine.revoked_at is not None and theirs.revoked_at is None
    assert client.get("/api/v1/departments", headers={"Authorization": f"Bearer {plain}"}).status_code == 401


def test_api_help_page_lists_the_operations(app, client, as_user):
    as_user(factories.user("viewer"))
    html = client.get("/help/api/").get_data(as_text=True)
    assert "GET /api/v1/milestones" in html
    assert "due_before" in html
