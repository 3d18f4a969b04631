"""The Python reference contender of the end-to-end benchmark (benches/e2e.rs).

Runs one task with the Airbyte agent SDK's incident.io connector (`airbyte-agent-sdk`, the
version pinned by `cargo xtask bench`) against the emulator, and prints one JSON line:

    paginate  every incident at --page-size via connector.incidents.list(page_size, after),
              one untimed warm-up pass, then one timed pass
              -> {"items", "secs", "checksum", "rss_kb"}
    fanout    connector.incidents.get(id) for every id in --ids, --concurrency in flight
              (asyncio.gather + a semaphore), after a small warm-up
              -> {"items", "secs", "rss_kb"}
    latency   --n sequential connector.users.get(id) calls after a warm-up
              -> {"median_us", "p90_us", "rss_kb"}
    export    every incident at --page-size via the agent path,
              connector.execute("incidents", "list", {page_size, after}, skip_truncation=True),
              each record written to --out with json.dumps as one line; one untimed
              warm-up pass, then one timed pass -> {"items", "secs", "bytes", "rss_kb"}

Direct mode builds the connector with IncidentIoAuthConfig and then points it at the
emulator (`connector._executor.http_client.base_url = URL`). Hosted mode uses
AirbyteAuthConfig(client id/secret, workspace_name) with SDK_DEV_ADP_API_HOST=URL, the SDK's
own switch for a local Airbyte API. Telemetry is off (AIRBYTE_TELEMETRY_MODE=disabled).
Peak RSS is VmHWM from /proc/self/status.
"""

import argparse
import asyncio
import json
import os
import statistics
import sys
import time

os.environ.setdefault("AIRBYTE_TELEMETRY_MODE", "disabled")


def peak_rss_kb():
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        pass
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def connector(args):
    if args.mode == "hosted":
        os.environ["SDK_DEV_ADP_API_HOST"] = args.url
    from airbyte_agent_sdk.connectors.incident_io import (
        AirbyteAuthConfig,
        IncidentIoAuthConfig,
        IncidentIoConnector,
    )

    if args.mode == "hosted":
        return IncidentIoConnector(
            auth_config=AirbyteAuthConfig(
                airbyte_client_id=args.client_id,
                airbyte_client_secret=args.client_secret,
                workspace_name=args.workspace,
            )
        )
    c = IncidentIoConnector(auth_config=IncidentIoAuthConfig(api_key=args.api_key))
    c._executor.http_client.base_url = args.url
    return c


async def paginate_once(c, page_size, limit):
    items = 0
    checksum = 0
    after = None
    while True:
        page = await c.incidents.list(page_size=page_size, after=after)
        for rec in page.data:
            items += 1
            checksum += len(rec.id)
            if limit and items >= limit:
                return items, checksum
        after = page.meta.next_cursor if page.meta is not None else None
        if not after:
            return items, checksum


async def paginate(args):
    c = connector(args)
    for _ in range(args.warmup):
        await paginate_once(c, args.page_size, args.limit)
    t = time.perf_counter()
    items, checksum = await paginate_once(c, args.page_size, args.limit)
    secs = time.perf_counter() - t
    await close(c)
    return {"items": items, "secs": secs, "checksum": checksum}


def next_cursor(meta):
    if meta is None:
        return None
    if isinstance(meta, dict):
        return meta.get("next_cursor")
    return getattr(meta, "next_cursor", None)


async def export_once(c, page_size, path):
    items = 0
    after = None
    with open(path, "w") as out:
        while True:
            params = {"page_size": page_size}
            if after:
                params["after"] = after
            result = await c.execute("incidents", "list", params, skip_truncation=True)
            for rec in result.data:
                out.write(json.dumps(rec))
                out.write("\n")
                items += 1
            after = next_cursor(getattr(result, "meta", None))
            if not after:
                return items


async def export(args):
    c = connector(args)
    for _ in range(args.warmup):
        await export_once(c, args.page_size, args.out)
    t = time.perf_counter()
    items = await export_once(c, args.page_size, args.out)
    secs = time.perf_counter() - t
    await close(c)
    return {"items": items, "secs": secs, "bytes": os.path.getsize(args.out)}


async def fanout(args):
    with open(args.ids) as f:
        ids = [line.strip() for line in f if line.strip()]
    c = connector(args)
    sem = asyncio.Semaphore(args.concurrency)

    async def one(i):
        async with sem:
            rec = await c.incidents.get(id=i)
            return 1 if rec else 0

    # Warm-up: a few calls (the hosted token and connector lookup, the connection pool).
    await asyncio.gather(*(one(i) for i in ids[: args.concurrency]))
    t = time.perf_counter()
    got = await asyncio.gather(*(one(i) for i in ids))
    secs = time.perf_counter() - t
    await close(c)
    return {"items": sum(got), "secs": secs}


async def latency(args):
    with open(args.ids) as f:
        ids = [line.strip() for line in f if line.strip()]
    c = connector(args)
    for k in range(100):
        await c.users.get(id=ids[k % len(ids)])
    samples = []
    for k in range(args.n):
        t = time.perf_counter()
        await c.users.get(id=ids[k % len(ids)])
        samples.append((time.perf_counter() - t) * 1e6)
    await close(c)
    samples.sort()
    return {
        "median_us": statistics.median(samples),
        "p90_us": samples[int(len(samples) * 0.9)],
    }


async def close(c):
    closer = getattr(c, "close", None)
    if closer is not None:
        try:
            await closer()
        except Exception:  # noqa: BLE001 - closing is best effort here
            pass


def main():
    p = argparse.ArgumentParser()
    p.add_argument("task", choices=["paginate", "fanout", "latency", "export", "version"])
    p.add_argument("--mode", choices=["direct", "hosted"], default="direct")
    p.add_argument("--url", default="")
    p.add_argument("--api-key", default="")
    p.add_argument("--client-id", default="")
    p.add_argument("--client-secret", default="")
    p.add_argument("--workspace", default="default")
    p.add_argument("--page-size", type=int, default=250)
    p.add_argument("--limit", type=int, default=0)
    p.add_argument("--warmup", type=int, default=1)
    p.add_argument("--ids", default="")
    p.add_argument("--concurrency", type=int, default=32)
    p.add_argument("--n", type=int, default=1000)
    p.add_argument("--out", default="")
    args = p.parse_args()
    if args.task == "version":
        from importlib.metadata import version

        out = {"sdk": version("airbyte-agent-sdk"), "python": sys.version.split()[0]}
    else:
        task = {"paginate": paginate, "fanout": fanout, "latency": latency, "export": export}[
            args.task
        ]
        out = asyncio.run(task(args))
    out["rss_kb"] = peak_rss_kb()
    print(json.dumps(out), flush=True)


if __name__ == "__main__":
    main()
