"""The Broker contract, run in-process and over Redis (two brokers = two server processes)."""

from __future__ import annotations

import asyncio
import uuid

from app.realtime.base import Subscription


async def next_message(sub: Subscription, timeout: float = 3) -> dict:
    _, message = await asyncio.wait_for(sub.get(), timeout)
    return message


async def test_a_publish_reaches_subscribers_of_that_channel_only(broker_pair) -> None:  # type: ignore[no-untyped-def]
    publisher, receiver = broker_pair
    channel, other = "conv:" + uuid.uuid4().hex, "conv:" + uuid.uuid4().hex
    sub, bystander = receiver.subscription(), receiver.subscription()
    await sub.add(channel)
    await bystander.add(other)
    await asyncio.sleep(0.1)  # Redis subscribe is asynchronous
    await publisher.publish(channel, {"type": "event", "n": 1})
    assert (await next_message(sub)) == {"type": "event", "n": 1}
    await asyncio.sleep(0.1)
    assert bystander.queue.empty()
    await sub.close()
    await bystander.close()


async def test_messages_on_one_channel_arrive_in_publish_order(broker_pair) -> None:  # type: ignore[no-untyped-def]
    publisher, receiver = broker_pair
    channel = "conv:" + uuid.uuid4().hex
    sub = receiver.subscription()
    await sub.add(channel)
    await asyncio.sleep(0.1)
    for n in range(50):
        await publisher.publish(channel, {"n": n})
    assert [(await next_message(sub))["n"] for _ in range(50)] == list(range(50))
    await sub.close()


async def test_after_unsubscribe_nothing_more_arrives(broker_pair) -> None:  # type: ignore[no-untyped-def]
    publisher, receiver = broker_pair
    channel = "conv:" + uuid.uuid4().hex
    sub = receiver.subscription()
    await sub.add(channel)
    await sub.remove(channel)
    await asyncio.sleep(0.1)
    await publisher.publish(channel, {"n": 1})
    await asyncio.sleep(0.2)
    assert sub.queue.empty()


async def test_a_slow_subscriber_is_told_to_resync_instead_of_growing_without_bound(broker_pair) -> None:  # type: ignore[no-untyped-def]
    publisher, receiver = broker_pair
    channel = "conv:" + uuid.uuid4().hex
    sub = Subscription(receiver, maxsize=5)
    await sub.add(channel)
    await asyncio.sleep(0.1)
    for n in range(20):
        await publisher.publish(channel, {"n": n})
    await asyncio.sleep(0.3)
    got = [(await next_message(sub))["n"] for _ in range(5)]
    assert got == [0, 1, 2, 3, 4]
    assert (await next_message(sub)) == {"type": "resync"}
    await sub.close()


async def test_the_publishing_process_gets_its_own_message_once_and_at_once(broker_pair) -> None:  # type: ignore[no-untyped-def]
    """A socket's own events reach it through its subscription alone (one delivery path), so they
    must arrive on the publishing process exactly once, and before the publish call returns."""
    publisher, receiver = broker_pair
    channel = "conv:" + uuid.uuid4().hex
    own, remote = publisher.subscription(), receiver.subscription()
    await own.add(channel)
    await remote.add(channel)
    await asyncio.sleep(0.1)
    await publisher.publish(channel, {"type": "event", "n": 1})
    assert own.queue.qsize() == 1, "the publisher's own subscriber waits for nothing"
    assert (await next_message(own)) == {"type": "event", "n": 1}
    assert (await next_message(remote)) == {"type": "event", "n": 1}
    await asyncio.sleep(0.3)
    assert own.queue.empty() and remote.queue.empty(), "delivered twice"
    await own.close()
    await remote.close()


async def test_own_subscribers_get_a_publish_while_redis_is_unreachable() -> None:
    """The sender's acknowledgement must not depend on Redis: with Redis gone, a publish still
    reaches this process's subscribers, and the publish call returns within its bound."""
    from app.realtime.redis import PUBLISH_TIMEOUT, RedisBroker

    broker = RedisBroker("redis://127.0.0.1:9")  # nothing listens on the discard port
    sub = broker.subscription()
    channel = "conv:" + uuid.uuid4().hex
    await sub.add(channel)
    started = asyncio.get_running_loop().time()
    await broker.publish(channel, {"type": "event", "n": 7})
    assert asyncio.get_running_loop().time() - started <= PUBLISH_TIMEOUT + 0.5
    assert (await next_message(sub, timeout=0.1)) == {"type": "event", "n": 7}
    await sub.close()
    await broker.close()


async def test_a_dropped_subscriber_connection_makes_every_local_subscriber_resync() -> None:
    """Whatever was published while the connection was down is only in the store: a subscriber
    must be told to resync once Redis has confirmed the re-subscription, whoever remade the
    connection (the listener, or redis-py's retry, which re-subscribes without raising)."""
    import redis.asyncio as aioredis

    from app.realtime.redis import RedisBroker
    from tests.conftest import REDIS_URL

    receiver, publisher = RedisBroker(REDIS_URL), RedisBroker(REDIS_URL)
    admin = aioredis.from_url(REDIS_URL)
    await receiver.start()
    await publisher.start()
    try:
        channel = "conv:" + uuid.uuid4().hex
        sub = receiver.subscription()
        await sub.add(channel)
        await asyncio.sleep(0.1)
        clients = await admin.client_list(_type="pubsub")
        ids = [c["id"] for c in clients if c.get("name") == f"parley-{receiver.origin}"]
        assert len(ids) == 1, clients
        assert await admin.client_kill_filter(_id=ids[0]) == 1
        assert (await next_message(sub, timeout=10)) == {"type": "resync"}
        assert receiver.subscribed_times == 2
        await publisher.publish(channel, {"type": "event", "n": 2})  # and the channel is live again
        assert (await next_message(sub)) == {"type": "event", "n": 2}
        await sub.close()
    finally:
        await admin.aclose()
        await receiver.close()
        await publisher.close()


async def test_a_channel_whose_subscribe_fails_is_subscribed_later_and_its_subscribers_resync() -> None:
    """A socket that attaches while the pub/sub connection is being remade can see its subscribe
    fail, with a RedisError or, from redis-py mid-reconnect, an AttributeError. The attach must
    not fail, and the broker must subscribe that channel itself and tell its subscribers to resync."""
    from app.realtime.redis import RedisBroker
    from tests.conftest import REDIS_URL

    receiver, publisher = RedisBroker(REDIS_URL), RedisBroker(REDIS_URL)
    await receiver.start()
    await publisher.start()
    try:
        pubsub = receiver._pubsub
        real, failures = pubsub.subscribe, []

        async def fails_once(*channels: str) -> object:
            if not failures:
                failures.append(channels)
                raise AttributeError("'NoneType' object has no attribute 'writelines'")
            return await real(*channels)

        pubsub.subscribe = fails_once
        channel = "conv:" + uuid.uuid4().hex
        sub = receiver.subscription()
        await sub.add(channel)  # does not raise
        assert failures == [(receiver.prefix + channel,)]
        assert (await next_message(sub, timeout=5)) == {"type": "resync"}
        await publisher.publish(channel, {"type": "event", "n": 3})
        assert (await next_message(sub)) == {"type": "event", "n": 3}
        await sub.close()
    finally:
        await receiver.close()
        await publisher.close()
