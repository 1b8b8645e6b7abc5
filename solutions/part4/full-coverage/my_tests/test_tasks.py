"""My tests of /tasks: each user's own tasks, and what a change announces."""


def create(client, headers, **fields):
    response = client.post("/tasks/", json=fields, headers=headers)
    assert response.status_code == 201, response.text
    return response.json()


def test_creating_a_task_returns_it_and_sends_a_notification(client, auth_headers, notifier):
    response = client.post("/tasks/", json={"title": "Buy milk"}, headers=auth_headers)

    assert response.status_code == 201
    task = response.json()
    assert task["title"] == "Buy milk"
    assert task["completed"] is False
    assert notifier.sent == [("alice", "Task created: Buy milk")]


def test_tasks_need_a_token(client):
    assert client.get("/tasks/").status_code == 401


def test_the_list_holds_only_my_tasks(client, login):
    alice, bob = login("alice"), login("bob")
    mine = create(client, alice, title="Buy milk")
    create(client, bob, title="Walk the dog")

    response = client.get("/tasks/", headers=alice)

    assert response.status_code == 200
    assert response.json() == [mine]


def test_the_list_can_be_filtered_by_completed(client, auth_headers):
    create(client, auth_headers, title="Buy milk")
    done = create(client, auth_headers, title="Pay rent", completed=True)

    response = client.get("/tasks/", params={"completed": True}, headers=auth_headers)

    assert response.json() == [done]


def test_reading_my_task(client, auth_headers):
    task = create(client, auth_headers, title="Buy milk")

    response = client.get(f"/tasks/{task['id']}", headers=auth_headers)

    assert response.status_code == 200
    assert response.json() == task


def test_a_missing_task_is_404(client, auth_headers):
    response = client.get("/tasks/999", headers=auth_headers)

    assert response.status_code == 404
    assert response.json() == {"detail": "Task not found"}


def test_someone_elses_task_is_404_too(client, login):
    alice, bob = login("alice"), login("bob")
    task = create(client, alice, title="Buy milk")

    assert client.get(f"/tasks/{task['id']}", headers=bob).status_code == 404
    assert client.patch(f"/tasks/{task['id']}", json={"completed": True}, headers=bob).status_code == 404
    assert client.delete(f"/tasks/{task['id']}", headers=bob).status_code == 404


def test_updating_changes_only_the_fields_sent(client, auth_headers):
    task = create(client, auth_headers, title="Buy milk", description="Two litres")

    response = client.patch(f"/tasks/{task['id']}", json={"completed": True}, headers=auth_headers)

    assert response.status_code == 200
    assert response.json() == {**task, "completed": True}


def test_deleting_a_task(client, auth_headers):
    task = create(client, auth_headers, title="Buy milk")

    response = client.delete(f"/tasks/{task['id']}", headers=auth_headers)

    assert response.status_code == 204
    assert client.get(f"/tasks/{task['id']}", headers=auth_headers).status_code == 404
