"""An M/M/N queue in SimPy, the baseline of `switchboard bench simulate`.

Poisson arrivals at `rate` per second, exponential service with mean `aht` seconds,
`agents` servers, customers served in arrival order, no abandonment. Runs until
`contacts` customers have arrived and prints one JSON line with the wall time.

Usage: python3 mmn.py CONTACTS AGENTS RATE AHT SEED
"""

import json
import random
import sys
import time

import simpy


def main() -> None:
    contacts, agents = int(sys.argv[1]), int(sys.argv[2])
    rate, aht, seed = float(sys.argv[3]), float(sys.argv[4]), int(sys.argv[5])
    rng = random.Random(seed)
    env = simpy.Environment()
    servers = simpy.Resource(env, capacity=agents)
    waits = []

    def customer(env):
        arrived = env.now
        with servers.request() as request:
            yield request
            waits.append(env.now - arrived)
            yield env.timeout(rng.expovariate(1.0 / aht))

    def source(env):
        for _ in range(contacts):
            yield env.timeout(rng.expovariate(rate))
            env.process(customer(env))

    env.process(source(env))
    started = time.perf_counter()
    env.run()
    elapsed = time.perf_counter() - started
    answered = len(waits)
    print(json.dumps({
        "contacts": contacts,
        "answered": answered,
        "seconds": elapsed,
        "asa": sum(waits) / answered if answered else None,
    }))


if __name__ == "__main__":
    main()
