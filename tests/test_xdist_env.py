from tests.xdist_env import worker_cache_url


def test_each_xdist_worker_gets_its_own_redis_cache_database():
    assert worker_cache_url("redis://127.0.0.1:6379/2", "gw0") == "redis://127.0.0.1:6379/2"
    assert worker_cache_url("redis://127.0.0.1:6379/2", "gw1") == "redis://127.0.0.1:6379/3"
    assert worker_cache_url("redis://h:1/2", "") == "redis://h:1/2"  # not under xdist
    assert worker_cache_url("redis://h:1", "gw1") == "redis://h:1"  # no number: left alone
