"""Print the markdown table of a bench/run.py result: `python bench/report.py results.json`."""

import json
import sys

MET = {True: "yes", False: "**no**", None: "–"}


def fmt(value):
    return "–" if value is None else f"{value:,.2f}" if isinstance(value, float) else str(value)


def main(path):
    data = json.loads(open(path, encoding="utf-8").read())  # noqa: SIM115
    print(f"`{data['command']}` — {data['date']}, commit {data['commit'][:10]}, "
          f"{data['machine']['cpus']} CPUs, {data['seconds']} s\n")  # fmt: skip
    for page, who in data.get("pages_by_role", {}).items():
        if who["refused (403)"]:
            print(f"- {page}: measured as {', '.join(who['measured as']) or 'nobody'}; "
                  f"refused (403) to {', '.join(who['refused (403)'])}")  # fmt: skip
    print()
    print("| measurement | scale | n | median | p95 | baseline | ratio | target | met |")
    print("|---|---|---|---|---|---|---|---|---|")
    for r in data["results"]:
        base = f"{r['baseline']['name']}: {fmt(r['baseline']['median'])}" if r["baseline"] else "–"
        extra = ", ".join(f"{k} {r[k]}" for k in ("queries", "peak_mib", "peak_rss_mib") if k in r)
        name = f"{r['name']} ({extra})" if extra else r["name"]
        print(f"| {name} | {fmt(r['scale'])} | {r['n']} | {fmt(r['median'])} {r['unit']} | "
              f"{fmt(r['p95'])} | {base} | {fmt(r['ratio'])} | {r['target']} | "
              f"{MET[r['met']]} |")  # fmt: skip


if __name__ == "__main__":
    main(sys.argv[1])
