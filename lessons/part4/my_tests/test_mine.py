"""Your own tests of the task manager: this file is yours to fill in.

Write plain `def test_...()` functions here (or in more `test_*.py` files in
this folder) that use the fixtures of the lesson's conftest.py, for example:

    def test_something(client, auth_headers):
        response = client.get("/tasks/", headers=auth_headers)
        assert response.status_code == 200

Aim for every line and every branch of app/routers/auth.py, tasks.py,
admin.py and ws.py. From the lesson folder:

    uv run pytest my_tests --no-cov                  # run your tests
    uv run pytest challenges/full-coverage --no-cov  # grade them
"""
