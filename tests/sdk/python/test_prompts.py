"""load_prompt(): by slug (project name or id), by version, by environment and by id; build()
renders the stored template; unknown slugs, ids and versions fail."""
import braintrust
import pytest
import requests

from _helpers import uniq


def _prompt_data(greeting):
    return {
        "prompt": {
            "type": "chat",
            "messages": [
                {"role": "system", "content": "You are a {{persona}} assistant."},
                {"role": "user", "content": greeting + ", {{name}}!"},
            ],
        },
        "options": {"model": "gpt-4o-mini", "params": {"temperature": 0.25}},
    }


@pytest.fixture(scope="module")
def prompts(arbor):
    project = uniq("py-prompts")
    pid = arbor.post_json("/v1/project", {"name": project})["id"]
    slug = uniq("greeter")
    v1 = arbor.post_json("/v1/prompt", {
        "project_id": pid, "name": "Greeter", "slug": slug, "description": "says hello",
        "tags": ["greeting"], "prompt_data": _prompt_data("Hello"),
        "environment_slugs": ["production"],
    })
    r = requests.put(arbor.url + "/v1/prompt", headers=arbor.headers(), timeout=60, json={
        "project_id": pid, "name": "Greeter", "slug": slug, "description": "says hi",
        "tags": ["greeting"], "prompt_data": _prompt_data("Hi there"),
    })
    assert r.ok, r.text
    v2 = r.json()
    return dict(project=project, pid=pid, slug=slug, v1=v1, v2=v2)


def _user_message(built):
    return [m for m in built["messages"] if m["role"] == "user"][0]["content"]


def test_versions_are_xact_ids(prompts):
    v1, v2 = prompts["v1"], prompts["v2"]
    assert v1["id"] == v2["id"]
    assert len(v1["_xact_id"]) == 19 and v1["_xact_id"].isdigit()
    assert v2["_xact_id"] > v1["_xact_id"]


def test_load_by_slug_builds_the_latest_version(prompts):
    p = braintrust.load_prompt(project=prompts["project"], slug=prompts["slug"])
    built = p.build(name="Ada", persona="terse")
    assert built["model"] == "gpt-4o-mini"
    assert built["temperature"] == 0.25
    assert built["messages"][0] == {"role": "system", "content": "You are a terse assistant."}
    assert _user_message(built) == "Hi there, Ada!"
    assert p.version == prompts["v2"]["_xact_id"]
    assert p.id == prompts["v1"]["id"]
    assert p.description == "says hi" and p.tags == ["greeting"]


def test_load_by_project_id(prompts):
    p = braintrust.load_prompt(project_id=prompts["pid"], slug=prompts["slug"])
    assert _user_message(p.build(name="Bo", persona="kind")) == "Hi there, Bo!"


def test_load_by_version(prompts):
    p = braintrust.load_prompt(project=prompts["project"], slug=prompts["slug"],
                               version=prompts["v1"]["_xact_id"])
    assert p.version == prompts["v1"]["_xact_id"]
    assert _user_message(p.build(name="Cy", persona="calm")) == "Hello, Cy!"


def test_load_by_environment(prompts):
    p = braintrust.load_prompt(project=prompts["project"], slug=prompts["slug"],
                               environment="production")
    assert p.version == prompts["v1"]["_xact_id"]
    assert _user_message(p.build(name="Di", persona="calm")) == "Hello, Di!"


def test_load_by_id_and_by_id_at_a_version(prompts):
    p = braintrust.load_prompt(id=prompts["v1"]["id"])
    assert p.slug == prompts["slug"] and p.version == prompts["v2"]["_xact_id"]
    assert _user_message(p.build(name="Ed", persona="calm")) == "Hi there, Ed!"
    old = braintrust.load_prompt(id=prompts["v1"]["id"], version=prompts["v1"]["_xact_id"])
    assert _user_message(old.build(name="Ed", persona="calm")) == "Hello, Ed!"


def test_not_found(prompts):
    with pytest.raises(Exception, match="not found|Not Found|404"):
        braintrust.load_prompt(project=prompts["project"], slug="no-such-slug").build()
    with pytest.raises(Exception):
        braintrust.load_prompt(id="00000000-0000-4000-8000-000000000000").build()
    with pytest.raises(Exception):
        # Before the first version existed.
        braintrust.load_prompt(project=prompts["project"], slug=prompts["slug"],
                               version="1000000000000000000").build()
