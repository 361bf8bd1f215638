"""`make bench`: every benchmark, each printing its JSON figures."""

from bench import bench_store

if __name__ == "__main__":
    bench_store.main()
