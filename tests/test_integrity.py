"""The attacks that once raised a Part 1 score from its honest value to full marks.

The submission is Part 1 with every task route answering 418 (an honest score
of the few tests that never reach a task route). Each attack runs from the
submission's own code and tries every route it knows; none may add a point,
and the ones that touch the test machinery are flagged."""

from __future__ import annotations

import pytest

import hostile
from conftest import ROOT
from workbook import batch
from workbook.catalog import get_part
from workbook.results import Scorecard

ATTACKS = list(hostile.teapot_attacks())


@pytest.fixture(scope="module")
def teapots(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Scorecard]:
    cards = hostile.once(tmp_path_factory.getbasetemp(), "teapots", lambda: grade_the_teapots(tmp_path_factory))
    return {name: Scorecard.from_dict(card) for name, card in cards.items()}


def grade_the_teapots(tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    part = get_part(ROOT, "part1")
    folder = tmp_path_factory.mktemp("teapots")
    hostile.teapot(part.folder, folder / "honest")
    for name, attack in hostile.teapot_attacks().items():
        attack(hostile.teapot(part.folder, folder / name))
    run = batch.Batch(part, tmp_path_factory.mktemp("out"), challenges=[], jobs=2, per_test_timeout=5, watchdog=300)
    return {name: card.as_dict() for name, card in run.run(batch.find_submissions(folder))}


def test_the_honest_teapot_earns_only_what_needs_no_task_route(teapots: dict[str, Scorecard]) -> None:
    card = teapots["honest"]
    assert 0 < card.earned < card.possible
    assert {r.name: r.status for r in card.results}["test_health_says_ok"] == "passed"
    assert card.flags == []


@pytest.mark.parametrize("attack", ATTACKS)
def test_no_attack_adds_a_point(teapots: dict[str, Scorecard], attack: str) -> None:
    honest, card = teapots["honest"], teapots[attack]
    assert card.earned <= honest.earned, [(r.name, r.status, r.reason) for r in card.results if r.status == "passed"]
    assert len(card.results) == len(honest.results)


@pytest.mark.parametrize("attack", ["plugin-at-import", "forged-lines", "rewritten-tests", "plugin-and-patches-in-a-route"])
def test_the_attack_is_flagged_for_the_instructor(teapots: dict[str, Scorecard], attack: str) -> None:
    assert teapots[attack].flags


def test_a_top_level_package_beside_app_is_not_used(teapots: dict[str, Scorecard]) -> None:
    assert any("__init__.py" in note for note in teapots["top-level-init"].notes)
