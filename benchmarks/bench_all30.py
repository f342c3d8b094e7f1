"""The 30 zoo models (vision, audio, sensor): ``gaba bench zoo --set all30``."""
from gaba.benchmarks import bench_zoo


def main(argv=None):
    return bench_zoo.main(argv, default_set="all30")
