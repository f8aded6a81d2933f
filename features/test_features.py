"""Every scenario of every feature in this folder, one test each."""

from pytest_bdd import scenarios

scenarios(".")
