"""Shared helpers of the Python tests: the fixture sample and running the nurec binary."""

import os
import subprocess
import unittest

import numpy as np

NUREC = os.environ["NUREC_BIN"]
WORK = os.environ["NUREC_TEST_WORK"]
EVENTS = os.path.join(WORK, "events.h5")  # generate + simulate (make_events.sh)


def run_nurec(*args):
    """Runs `nurec -q ARGS`; fails the test with its output on a non-zero exit."""
    result = subprocess.run([NUREC, "-q", *map(str, args)], capture_output=True, text=True)
    if result.returncode != 0:
        raise AssertionError(
            "nurec {} failed ({}):\n{}{}".format(
                " ".join(map(str, args)), result.returncode, result.stdout, result.stderr
            )
        )
    return result


def test_dir(name):
    """A fresh folder for one test's files."""
    path = os.path.join(WORK, name)
    os.makedirs(path, exist_ok=True)
    return path


class ArrayTestCase(unittest.TestCase):
    def assertArraysEqual(self, a, b, name=""):
        """Same shape, same element type, bit-identical values."""
        a, b = np.asarray(a), np.asarray(b)
        self.assertEqual(a.shape, b.shape, name)
        self.assertEqual(a.dtype, b.dtype, name)
        self.assertTrue(np.array_equal(a, b, equal_nan=a.dtype.kind == "f"), name)
