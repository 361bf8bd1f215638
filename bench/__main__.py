"""`make bench`: every benchmark, their figures printed as one JSON object."""

import json

from bench import bench_intake, bench_store

if __name__ == "__main__":
    print(json.dumps({"store": bench_store.main([]), "intake": bench_intake.main([])}, indent=2))
