"""placeholder"""
import pytest

def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "points(n, hint=None): how many points a graded test is worth")
    config.addinivalue_line("markers", "hidden: score counted, details withheld from students")
