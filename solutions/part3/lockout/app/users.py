"""Finding, creating and authenticating users."""

from datetime import UTC, datetime, timedelta

from sqlmodel import Session, func, select

from app.core.security import DUMMY_HASH, hash_password, verify_password
from app.models import User

MAX_FAILED_LOGINS = 5  # wrong passwords in a row...
LOCKOUT = timedelta(minutes=15)  # ...lock the account for this long


class AccountLocked(Exception):
    """Raised by authenticate() for an account that is locked."""

    def __init__(self, until: datetime) -> None:
        super().__init__(f"locked until {until}")
        self.until = until


def get_user_by_username(session: Session, username: str) -> User | None:
    query = select(User).where(func.lower(User.username) == username.lower())
    return session.exec(query).first()


def create_user(session: Session, username: str, password: str, is_admin: bool = False) -> User:
    user = User(username=username, hashed_password=hash_password(password), is_admin=is_admin)
    session.add(user)
    session.commit()
    session.refresh(user)
    return user


def as_utc(moment: datetime) -> datetime:
    # SQLite stores datetimes without a time zone; ours are always UTC.
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def authenticate(session: Session, username: str, password: str, now: datetime) -> User | None:
    """The user with this username and password, or None.

    Raises AccountLocked, without checking the password, while the account is locked."""
    user = get_user_by_username(session, username)
    if user is None:
        verify_password(password, DUMMY_HASH)  # take as long as a real check
        return None
    if user.locked_until is not None and now < as_utc(user.locked_until):
        raise AccountLocked(as_utc(user.locked_until))
    if not verify_password(password, user.hashed_password):
        record_failed_login(session, user, now)
        return None
    user.failed_logins = 0  # a success ends the series of failures
    session.add(user)
    session.commit()
    return user


def record_failed_login(session: Session, user: User, now: datetime) -> None:
    """Count one more wrong password; the fifth in a row locks the account."""
    user.failed_logins += 1
    if user.failed_logins >= MAX_FAILED_LOGINS:
        user.locked_until = now + LOCKOUT
        user.failed_logins = 0  # once the lock is over, the count starts again
    session.add(user)
    session.commit()
