"""Challenge: label tasks with tags ("home", "work", ...) kept in a table of their own, and list the tasks that have one."""

import pytest
from sqlmodel import Session, select


def create(client, title: str, **fields) -> dict:
    response = client.post("/tasks/", json={"title": title, **fields})
    assert response.status_code == 201, response.text
    return response.json()


def titles(client, **params) -> list[str]:
    response = client.get("/tasks/", params=params)
    assert response.status_code == 200, response.text
    return [task["title"] for task in response.json()]


@pytest.mark.points(2, hint="TaskCreate gets `tags: list[str] = []`, TaskPublic gets `tags: list[str]`, and Task a Relationship to Tag.")
def test_a_task_is_created_with_tags(client):
    """POST /tasks/ with `"tags": ["home", "urgent"]` answers 201 with those tags, and GET /tasks/{id} shows them too."""
    task = create(client, "Fix the sink", tags=["home", "urgent"])

    assert task.get("tags") == ["home", "urgent"]
    assert client.get(f"/tasks/{task['id']}").json()["tags"] == ["home", "urgent"]


@pytest.mark.points(2, hint="StringConstraints(strip_whitespace=True, to_lower=True, ...) tidies each name; sorted(set(names)) does the rest.")
def test_tags_are_tidied(client):
    """Tags come back trimmed, in lower case, each once, and sorted: [" Urgent", "home", "urgent ", "Garden"] gives ["garden", "home", "urgent"]."""
    task = create(client, "Plant tulips", tags=[" Urgent", "home", "urgent ", "Garden"])

    assert task.get("tags") == ["garden", "home", "urgent"]
    assert client.get(f"/tasks/{task['id']}").json()["tags"] == ["garden", "home", "urgent"]


@pytest.mark.points(1)
def test_tags_default_to_an_empty_list(client):
    """A task created without tags has `"tags": []`, in POST, GET /tasks/{id} and GET /tasks/."""
    task = create(client, "Buy milk")

    assert task.get("tags") == []
    assert client.get(f"/tasks/{task['id']}").json()["tags"] == []
    assert client.get("/tasks/").json()[0]["tags"] == []


@pytest.mark.points(2, hint="A tag is 1 to 30 characters after trimming: StringConstraints(min_length=1, max_length=30).")
@pytest.mark.parametrize("tags", [[""], ["   "], ["x" * 31], [42], "home", None])
def test_invalid_tags_are_422(client, tags):
    """An empty or blank tag, one longer than 30 characters, a tag that is not text, or tags that are not a list answer 422, and no task is stored."""
    assert create(client, "Fine", tags=["x" * 30])["tags"] == ["x" * 30]

    response = client.post("/tasks/", json={"title": "Buy milk", "tags": tags})

    assert response.status_code == 422
    assert titles(client) == ["Fine"]


@pytest.mark.points(2, hint="In update_task, pop `tags` out of the changes: the names sent replace task.tags, and [] removes them all.")
def test_patch_replaces_the_tags(client):
    """PATCH with `tags` replaces all the tags of the task, PATCH without `tags` keeps them, and `"tags": []` removes them."""
    task = create(client, "Fix the sink", tags=["home", "urgent"])

    assert client.patch(f"/tasks/{task['id']}", json={"tags": ["Plumbing", "home"]}).json()["tags"] == ["home", "plumbing"]
    assert client.patch(f"/tasks/{task['id']}", json={"completed": True}).json()["tags"] == ["home", "plumbing"]
    assert client.get(f"/tasks/{task['id']}").json()["tags"] == ["home", "plumbing"]
    assert client.patch(f"/tasks/{task['id']}", json={"tags": []}).json()["tags"] == []
    assert client.get(f"/tasks/{task['id']}").json() == {**task, "completed": True, "tags": []}


@pytest.mark.points(1, hint="Add `tags` to the fields TaskUpdate's null check refuses.")
def test_patch_with_null_tags_is_422(client):
    """PATCH with `"tags": null` answers 422 and the task keeps its tags."""
    task = create(client, "Fix the sink", tags=["home"])

    response = client.patch(f"/tasks/{task['id']}", json={"tags": None})

    assert response.status_code == 422
    assert client.get(f"/tasks/{task['id']}").json()["tags"] == ["home"]


@pytest.mark.points(3, hint="query.where(col(Task.tags).any(Tag.name == tag)) keeps the tasks that have this tag.")
def test_list_the_tasks_with_a_tag(client):
    """GET /tasks/?tag=home lists only the tasks tagged "home", by id; the tag is matched whatever its case; an unused tag gives []."""
    create(client, "Fix the sink", tags=["home", "urgent"])
    create(client, "Write report", tags=["work"])
    create(client, "Buy milk")
    create(client, "Paint the fence", tags=["home"])

    assert titles(client, tag="home") == ["Fix the sink", "Paint the fence"]
    assert titles(client, tag="Home") == ["Fix the sink", "Paint the fence"]
    assert titles(client, tag="work") == ["Write report"]
    assert titles(client, tag="holiday") == []


@pytest.mark.points(1)
def test_the_tag_filter_works_with_the_others(client):
    """tag combines with completed, offset and limit: the page is cut from the tasks that match both."""
    for n in range(4):
        create(client, f"Home {n}", tags=["home"], completed=n != 1)
        create(client, f"Work {n}", tags=["work"], completed=True)

    assert titles(client, tag="home", completed="true") == ["Home 0", "Home 2", "Home 3"]
    assert titles(client, tag="home", completed="true", offset=1, limit=1) == ["Home 2"]
    assert client.get("/tasks/", params={"tag": ""}).status_code == 422


@pytest.mark.points(2, hint="Look for a Tag with that name before making a new one: select(Tag).where(Tag.name == name).")
def test_a_tag_is_stored_once(client, session):
    """Two tasks tagged "home" share one row named "home" in the Tag table."""
    from app.models import Tag

    create(client, "Fix the sink", tags=["home"])
    create(client, "Paint the fence", tags=["Home", "garden"])

    with Session(session.get_bind()) as fresh:
        names = sorted(tag.name for tag in fresh.exec(select(Tag)).all())
    assert names == ["garden", "home"]


@pytest.mark.points(1)
def test_deleting_a_task_leaves_the_others_tagged(client):
    """After one of two "home" tasks is deleted, the other keeps its tag and is the only one listed with ?tag=home."""
    gone = create(client, "Fix the sink", tags=["home"])
    kept = create(client, "Paint the fence", tags=["home"])

    assert client.delete(f"/tasks/{gone['id']}").status_code == 204

    assert client.get(f"/tasks/{kept['id']}").json()["tags"] == ["home"]
    assert titles(client, tag="home") == ["Paint the fence"]
