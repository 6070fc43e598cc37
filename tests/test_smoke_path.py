"""The learner's path through the web app, as a student would take it."""

import re

from markupsafe import escape


def test_student_reads_a_lesson_and_progress_moves(client, auth, catalog):
    auth.as_role("student")
    module = catalog.modules[0]
    lesson = module.lessons[0]
    home = client.get("/learn/")
    assert re.search(r'<progress max="100" value="0"', home.text)
    assert client.get(f"/learn/modules/{module.id}/lessons/{lesson.id}").status_code == 200
    response = client.post(f"/learn/modules/{module.id}/lessons/{lesson.id}/complete")
    assert response.status_code == 302
    home = client.get("/learn/")
    shown = re.search(rf'value="(\d+)" aria-label="Progress in {re.escape(str(escape(module.title)))}"', home.text)
    assert int(shown.group(1)) > 0
    assert "Continue with" in home.text
