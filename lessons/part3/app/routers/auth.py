"""The /auth endpoints: register, log in, and who am I."""

from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, status
from fastapi.security import OAuth2PasswordRequestForm
from sqlalchemy.exc import IntegrityError

from app.core.security import create_access_token
from app.db import SessionDep
from app.deps import CurrentUser
from app.models import Token, UserCreate, UserPublic
from app.users import authenticate, create_user, get_user_by_username

router = APIRouter(prefix="/auth", tags=["auth"])

# --8<-- [start:register]
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
# --8<-- [end:register]


# --8<-- [start:login]
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
    return Token(access_token=create_access_token(user.id))
# --8<-- [end:login]


# --8<-- [start:me]
@router.get("/me")
def read_me(user: CurrentUser) -> UserPublic:
    return user
# --8<-- [end:me]
