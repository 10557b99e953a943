"""Private ROS domains: in the safe range, never shared on one host, never over the user's."""
import os
import subprocess
import sys

from t3d_ros.graph import domain as ros_domain

CLAIM = ('from t3d_ros.graph import domain as ros_domain; '
         'print(ros_domain.claim_domain(), flush=True); input()')


def test_two_processes_never_claim_the_same_domain():
    first = subprocess.Popen([sys.executable, '-c', CLAIM], stdin=subprocess.PIPE,
                             stdout=subprocess.PIPE, text=True)
    try:
        taken = int(first.stdout.readline())
        with_same_start = [sys.executable, '-c', CLAIM]
        second = subprocess.run(with_same_start, input='\n', capture_output=True, text=True,
                                check=True)
        assert taken in ros_domain.PRIVATE_DOMAINS
        assert int(second.stdout) in ros_domain.PRIVATE_DOMAINS
        assert int(second.stdout) != taken
    finally:
        first.communicate('\n')


def test_domains_are_in_the_range_ros_documents_as_safe_and_not_the_default():
    assert min(ros_domain.PRIVATE_DOMAINS) >= 1 and max(ros_domain.PRIVATE_DOMAINS) <= 101


def test_a_held_lock_moves_the_claim_to_the_next_domain(tmp_path):
    script = (f'import fcntl, os; from t3d_ros.graph import domain as d; '
              f'n = d.PRIVATE_DOMAINS[os.getpid() % len(d.PRIVATE_DOMAINS)]; '
              f'f = open({str(tmp_path)!r} + f"/t3d_ros-domain-{{n}}.lock", "a"); '
              f'fcntl.flock(f, fcntl.LOCK_EX); '
              f'print(n, d.claim_domain({str(tmp_path)!r}))')
    wanted, got = map(int, subprocess.check_output([sys.executable, '-c', script]).split())
    assert got != wanted and got in ros_domain.PRIVATE_DOMAINS


def test_a_domain_the_user_set_is_kept(monkeypatch):
    monkeypatch.setenv('ROS_DOMAIN_ID', '42')
    monkeypatch.delenv('ROS_AUTOMATIC_DISCOVERY_RANGE', raising=False)
    with ros_domain.private_domain() as domain:
        assert domain == '42' and 'ROS_AUTOMATIC_DISCOVERY_RANGE' not in os.environ


def test_private_domain_is_local_and_restores_the_environment(monkeypatch):
    monkeypatch.delenv('ROS_DOMAIN_ID', raising=False)
    monkeypatch.setenv('ROS_STATIC_PEERS', '10.0.0.1')
    monkeypatch.delenv('ROS_AUTOMATIC_DISCOVERY_RANGE', raising=False)
    with ros_domain.private_domain() as domain:
        assert os.environ['ROS_DOMAIN_ID'] == domain
        assert int(domain) in ros_domain.PRIVATE_DOMAINS
        assert os.environ['ROS_AUTOMATIC_DISCOVERY_RANGE'] == 'LOCALHOST'
        assert 'ROS_STATIC_PEERS' not in os.environ
    assert 'ROS_DOMAIN_ID' not in os.environ
    assert os.environ['ROS_STATIC_PEERS'] == '10.0.0.1'
