"""Today's date, handed to the routes as a dependency, so tests can pick the day."""

from datetime import date
from typing import Annotated

from fastapi import Depends


def get_today() -> date:
    """Today's date on the computer running the app. Tests override this."""
    return date.today()


TodayDep = Annotated[date, Depends(get_today)]
