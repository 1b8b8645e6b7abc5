"""The /auth endpoints: register, log in, who am I, and change my password."""

from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, status
from fastapi.security import OAuth2PasswordRequestForm
from sqlalchemy.exc import IntegrityError

from app.core.security import create_access_token, verify_password
from app.db import SessionDep
from app.deps import CurrentUser
from app.models import PasswordChange, Token, UserCreate, UserPublic
from app.users import authenticate, change_password, create_user, get_user_by_username

router = APIRouter(prefix="/auth", tags=["auth"])

USERNAME_TAKEN = HTTPException(status_code=status.HTTP_409_CONFLICT, detail="Username already taken")


@router.post("/register", status_code=status.HTTP_201_CREATED)
def register(user_in: UserCreate, session: SessionDep) -> UserPublic:
    if get_user_by_username(session, user_in.username) is not None:
        raise USERNAME_TAKEN
    try:
        return create_user(session, user_in.username, user_in.password)
    except IntegrityError:
        # Someone else registered the same name between our check and our insert.
        session.rollback()
        raise USERNAME_TAKEN from None


@router.post("/token")
def login(form: Annotated[OAuth2PasswordRequestForm, Depends()], session: SessionDep) -> Token:
    user = authenticate(session, form.username, form.password)
    if user is None:
        # One message for both cases: do not tell which of the two was wrong.
        raise HTTPException(
            status_code=status.HTTP_401_UNAUTHORIZED,
            detail="Incorrect username or password",
            headers={"WWW-Authenticate": "Bearer"},
        )
    if not user.is_active:
        raise HTTPException(status_code=status.HTTP_403_FORBIDDEN, detail="Inactive user")
    return Token(access_token=create_access_token(user.id, user.token_version))


@router.get("/me")
def read_me(user: CurrentUser) -> UserPublic:
    return user


@router.post("/password", status_code=status.HTTP_204_NO_CONTENT)
def update_password(body: PasswordChange, user: CurrentUser, session: SessionDep) -> None:
    """Change your password. Every token issued before answers 401 afterwards: log in again."""
    # A stolen token alone must not be enough to take over the account.
    if not verify_password(body.old_password, user.hashed_password):
        raise HTTPException(status_code=status.HTTP_400_BAD_REQUEST, detail="Incorrect password")
    if body.new_password == body.old_password:
        raise HTTPException(
            status_code=status.HTTP_400_BAD_REQUEST,
            detail="The new password must be different from the old one",
        )
    change_password(session, user, body.new_password)
