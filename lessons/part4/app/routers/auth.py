"""The /auth endpoints: register, log in, and who am I."""

from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Request, status
from fastapi.security import OAuth2PasswordRequestForm
from sqlalchemy.exc import IntegrityError

from app.core.errors import Responses, error_response
from app.core.rate_limit import TOO_MANY_ATTEMPTS, AuthLimiterDep, limit_attempts
from app.core.security import create_access_token
from app.db import SessionDep
from app.deps import BEARER, NEEDS_USER, CurrentUser
from app.models import Token, User, UserCreate, UserPublic
from app.users import authenticate, create_user, get_user_by_username

router = APIRouter(prefix="/auth", tags=["auth"])

BAD_BODY: Responses = {400: error_response("The body could not be read")}
REGISTER_ERRORS: Responses = {**BAD_BODY, **TOO_MANY_ATTEMPTS, 409: error_response("The username is taken")}
LOGIN_ERRORS: Responses = {
    **BAD_BODY,
    **TOO_MANY_ATTEMPTS,
    401: {**error_response("Wrong username or password"), "headers": BEARER},
    403: error_response("The user is deactivated"),
}

USERNAME_TAKEN = HTTPException(status_code=status.HTTP_409_CONFLICT, detail="Username already taken")


# response_model: the route returns the table row, the client sees UserPublic.
@router.post(
    "/register", status_code=status.HTTP_201_CREATED, response_model=UserPublic, responses=REGISTER_ERRORS
)
def register(
    user_in: UserCreate, session: SessionDep, request: Request, limiter: AuthLimiterDep
) -> User:
    limit_attempts(request, limiter, user_in.username)
    if get_user_by_username(session, user_in.username) is not None:
        raise USERNAME_TAKEN
    try:
        return create_user(session, user_in.username, user_in.password)
    except IntegrityError:
        # Someone else registered the same name between our check and our insert.
        session.rollback()
        raise USERNAME_TAKEN from None


@router.post("/token", responses=LOGIN_ERRORS)
def login(
    form: Annotated[OAuth2PasswordRequestForm, Depends()],
    session: SessionDep,
    request: Request,
    limiter: AuthLimiterDep,
) -> Token:
    # Before the password check: every attempt costs an argon2 hash.
    limit_attempts(request, limiter, form.username)
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
    assert user.id is not None  # a user read from the database has an id
    return Token(access_token=create_access_token(user.id))


@router.get("/me", response_model=UserPublic, responses=NEEDS_USER)
def read_me(user: CurrentUser) -> User:
    return user
