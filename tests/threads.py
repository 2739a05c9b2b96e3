"""Racing real transactions: each call in a thread of its own (its own database connection),
all released at once."""

import threading

from django.db import connection


def race(*calls, timeout: float = 60):
    """Run each call in its own thread, released together; return [(result, exception)]."""
    barrier = threading.Barrier(len(calls))
    outcomes = [None] * len(calls)

    def run(i, call):
        try:
            barrier.wait(timeout=timeout)
            outcomes[i] = (call(), None)
        except Exception as exc:
            outcomes[i] = (None, exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i, c)) for i, c in enumerate(calls)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=timeout)
    assert not any(t.is_alive() for t in threads), "a thread is stuck (deadlock?)"
    return outcomes
