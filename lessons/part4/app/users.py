"""Finding, creating and authenticating users."""

from sqlmodel import Session, func, select

from app.core.security import DUMMY_HASH, hash_password, verify_password
from app.models import User


def get_user_by_username(session: Session, username: str) -> User | None:
    # Usernames are ASCII (see Username in models.py). Python lower-cases some
    # other letters to ASCII ones (the Kelvin sign "K" to "k"): such a name
    # could otherwise log in as somebody else.
    if not username.isascii():
        return None
    query = select(User).where(func.lower(User.username) == username.lower())
    return session.exec(query).first()


def create_user(session: Session, username: str, password: str, is_admin: bool = False) -> User:
    user = User(username=username, hashed_password=hash_password(password), is_admin=is_admin)
    session.add(user)
    session.commit()
    session.refresh(user)
    return user


def authenticate(session: Session, username: str, password: str) -> User | None:
    """The user with this username and password, or None."""
    user = get_user_by_username(session, username)
    if user is None:
        verify_password(password, DUMMY_HASH)  # take as long as a real check
        return None
    if not verify_password(password, user.hashed_password):
        return None
    return user
