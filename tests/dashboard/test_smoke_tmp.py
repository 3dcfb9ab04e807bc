from django.urls import reverse


def test_renders(staff_client):
    r = staff_client.get(reverse("dashboard:index"))
    assert r.status_code == 200
    open("/tmp/dash.html", "w").write(r.content.decode())
    r = staff_client.get(reverse("dashboard:index"), {"days": 7}, headers={"HX-Request": "true"})
    assert r.status_code == 200
    open("/tmp/dash_frag.html", "w").write(r.content.decode())
