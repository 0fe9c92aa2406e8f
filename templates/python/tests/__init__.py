"""Tests that boot the real server and talk to it over a socket."""
