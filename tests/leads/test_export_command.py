"""`leadbase export`: the file it writes, and a clear error when it cannot write one."""

from __future__ import annotations

import json

import pytest
from django.core.management import CommandError, call_command

from tests.factories import make_lead

pytestmark = pytest.mark.django_db


def test_it_writes_the_workspaces_leads_to_the_output_file(personas, tmp_path):
    make_lead(personas.workspace, name="Grace Hopper", phone="+1 202 555 0143")
    out = tmp_path / "leads.jsonl"
    call_command("export", "--workspace", "acme", "--format", "jsonl", "-o", str(out))
    [row] = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert (row["name"], row["phone"]) == ("Grace Hopper", "+12025550143")


def test_an_output_file_that_cannot_be_written_is_a_clear_error(personas, tmp_path):
    target = tmp_path / "missing-folder" / "leads.csv"
    with pytest.raises(CommandError, match="Cannot write .*missing-folder"):
        call_command("export", "--workspace", "acme", "-o", str(target))
