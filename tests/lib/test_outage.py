"""leadbase.lib.outage: an outage said once when it starts, reminded, and said when it ends."""

from __future__ import annotations

import threading

from leadbase.lib.outage import Outage


def test_said_at_the_start_reminded_after_the_interval_and_its_end_said_once():
    outage = Outage(every=300.0)
    assert outage.answered() is None and not outage.lasting  # no outage: nothing to say
    assert outage.failed() == ""  # it starts
    assert outage.failed() is None and outage.lasting  # said already
    outage._said -= 300.0  # five minutes on
    assert (outage.failed() or "").startswith(" (for ")
    assert outage.failed() is None
    lasted = outage.answered()
    assert lasted is not None and lasted >= 0
    assert outage.answered() is None and outage.failed() == ""  # a second outage starts afresh


def test_threads_meeting_it_together_say_it_once():
    outage, said = Outage(every=300.0), []
    start = threading.Barrier(8)

    def fail() -> None:
        start.wait()
        said.append(outage.failed())

    threads = [threading.Thread(target=fail) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(said, key=str) == ["", *[None] * 7]
