import os
import sys

HERE = os.path.dirname(__file__)
# The runner package and the tests' model module, importable without installing anything.
sys.path[:0] = [os.path.dirname(HERE), HERE]
