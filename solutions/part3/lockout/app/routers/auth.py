"""The /auth endpoints: register, log in, and who am I."""

import math
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, status
from fastapi.security import OAuth2PasswordRequestForm
from sqlalchemy.exc import IntegrityError

from app.core.security import create_access_token
from app.db import SessionDep
from app.deps import CurrentUser, Now
from app.models import Token, UserCreate, UserPublic
from app.users import AccountLocked, authenticate, create_user, get_user_by_username

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
def login(
    form: Annotated[OAuth2PasswordRequestForm, Depends()], session: SessionDep, now: Now
) -> Token:
    try:
        user = authenticate(session, form.username, form.password, now)
    except AccountLocked as locked:
        seconds_left = math.ceil((locked.until - now).total_seconds())
        raise HTTPException(
            status_code=status.HTTP_429_TOO_MANY_REQUESTS,
            detail="Too many failed logins: this account is locked for a while, try again later",
            headers={"Retry-After": str(seconds_left)},
        ) from None
    if user is None:
        # One message for both cases: do not tell which of the two was wrong.
        raise HTTPException(
            status_code=status.HTTP_401_UNAUTHORIZED,
            detail="Incorrect username or password",
            headers={"WWW-Authenticate": "Bearer"},
        )
    if not user.is_active:
        raise HTTPException(status_code=status.HTTP_403_FORBIDDEN, detail="Inactive user")
    return Token(access_token=create_access_token(user.id))


@router.get("/me")
def read_me(user: CurrentUser) -> UserPublic:
    return user
