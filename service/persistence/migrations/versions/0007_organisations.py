"""Organisations and memberships; every case and open task belongs to an organisation.

An installation that ran with one school (``config/provider.toml``) keeps working: that school
becomes the first organisation, every existing account becomes a member of it with the roles it
had, and every existing case and open task belongs to it. A new, empty database gets no
organisation here: the operator imports the registry (``homeschool organisations import``). A
database with staff or cases whose settings file cannot be read is refused, untouched.

Revision ID: 0007_organisations
Revises: 0006_staff_sessions
Create Date: 2026-12-02
"""

from __future__ import annotations

import os
import tomllib
from datetime import UTC, datetime
from pathlib import Path

import sqlalchemy as sa
from alembic import op

from service.domain.errors import DomainError
from service.persistence.models import UtcDateTime

revision = "0007_organisations"
down_revision = "0006_staff_sessions"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "organisations",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("bin", sa.String(12), nullable=False, unique=True),
        sa.Column("kind", sa.String(40), nullable=False),
        sa.Column("name_kk", sa.String(500), nullable=False),
        sa.Column("name_ru", sa.String(500), nullable=False),
        sa.Column("address_kk", sa.String(500), nullable=False),
        sa.Column("address_ru", sa.String(500), nullable=False),
        sa.Column("phone", sa.String(60), nullable=False),
        sa.Column("email", sa.String(200), nullable=False),
        sa.Column("region", sa.String(200), nullable=False, index=True),
        sa.Column("district", sa.String(200), nullable=False),
        sa.Column("working_hours", sa.String(20), nullable=False),
        sa.Column("head_name", sa.String(200), nullable=False),
        sa.Column("head_position_kk", sa.String(200), nullable=False),
        sa.Column("head_position_ru", sa.String(200), nullable=False),
        sa.Column("locality_kk", sa.String(200), nullable=False),
        sa.Column("locality_ru", sa.String(200), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("updated_at", UtcDateTime(), nullable=False),
    )
    op.create_table(
        "memberships",
        sa.Column("staff_id", sa.Integer(), sa.ForeignKey("staff_users.id"), primary_key=True),
        sa.Column("organisation_id", sa.Integer(), sa.ForeignKey("organisations.id"), primary_key=True, index=True),
        sa.Column("roles", sa.String(400), nullable=False),
        sa.Column("position_kk", sa.String(200), nullable=False),
        sa.Column("position_ru", sa.String(200), nullable=False),
    )
    with op.batch_alter_table("process_instances") as batch:
        batch.add_column(sa.Column("organisation_id", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("appealed_organisation_id", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("related_instance_id", sa.Integer(), nullable=True))
        batch.create_foreign_key("fk_instance_organisation", "organisations", ["organisation_id"], ["id"])
        batch.create_foreign_key("fk_instance_appealed", "organisations", ["appealed_organisation_id"], ["id"])
        batch.create_foreign_key("fk_instance_related", "process_instances", ["related_instance_id"], ["id"])
        batch.create_index("ix_process_instances_organisation_id", ["organisation_id"])
        batch.create_index("ix_process_instances_appealed_organisation_id", ["appealed_organisation_id"])
        batch.create_index("ix_process_instances_related_instance_id", ["related_instance_id"])
    op.add_column("open_tasks", sa.Column("organisation_id", sa.Integer(), nullable=True))
    op.drop_index("ix_open_tasks_lane_created", table_name="open_tasks")
    op.create_index("ix_open_tasks_org_lane_created", "open_tasks",
                    ["organisation_id", "lane", "created_at", "task_id"])
    op.add_column("staff_users", sa.Column("national_admin", sa.Boolean(), nullable=False,
                                           server_default=sa.false()))
    _migrate_single_school()
    with op.batch_alter_table("staff_users") as batch:
        batch.drop_column("roles")


def _migrate_single_school() -> None:
    """The school of a single-school install becomes an organisation owning everything so far."""
    bind = op.get_bind()
    staff = bind.execute(sa.text("SELECT id, roles FROM staff_users")).all()
    has_cases = bind.execute(sa.text("SELECT 1 FROM process_instances LIMIT 1")).first() is not None
    if not staff and not has_cases:
        return
    provider = _provider_section()
    if provider is None:
        # Upgrading without it would leave every account without a membership and every case without
        # an owner: refuse, and say how to go on. Nothing of this upgrade is kept (one transaction).
        raise DomainError(
            "this database has staff or cases but the single-school settings file could not be read "
            f"({os.environ.get('HOMESCHOOL_PROVIDER_FILE', 'config/provider.toml')}): set HOMESCHOOL_PROVIDER_FILE "
            "to the school's provider.toml and run 'homeschool db upgrade' again"
        )
    now = datetime.now(UTC)
    bind.execute(sa.text(
        "INSERT INTO organisations (bin, kind, name_kk, name_ru, address_kk, address_ru, phone, email, region, "
        "district, working_hours, head_name, head_position_kk, head_position_ru, locality_kk, locality_ru, active, "
        "updated_at) VALUES (:bin, 'school', :name_kk, :name_ru, :address_kk, :address_ru, :phone, :email, "
        ":region, '', '', :head_name, :head_position_kk, :head_position_ru, :locality_kk, :locality_ru, :active, "
        ":now)"
    ), {
        "bin": provider["bin"], "name_kk": provider["name_kk"], "name_ru": provider["name_ru"],
        "address_kk": provider["address_kk"], "address_ru": provider["address_ru"], "phone": provider["phone"],
        "email": provider.get("email", ""), "region": provider.get("locality_ru", ""),
        "head_name": provider["head_name"], "head_position_kk": provider.get("head_position_kk", "Директор"),
        "head_position_ru": provider.get("head_position_ru", "Директор"),
        "locality_kk": provider.get("locality_kk", ""), "locality_ru": provider.get("locality_ru", ""),
        "active": True, "now": now if bind.dialect.name != "sqlite" else now.replace(tzinfo=None),
    })
    org_id = bind.execute(sa.text("SELECT id FROM organisations WHERE bin = :bin"), {"bin": provider["bin"]}).scalar()
    for staff_id, roles in staff:
        national = "analyst" in roles.split(",")
        bind.execute(sa.text(
            "INSERT INTO memberships (staff_id, organisation_id, roles, position_kk, position_ru) "
            "VALUES (:staff, :org, :roles, '', '')"
        ), {"staff": staff_id, "org": org_id, "roles": roles})
        if national:
            bind.execute(sa.text("UPDATE staff_users SET national_admin = :yes WHERE id = :id"),
                         {"yes": True, "id": staff_id})
    bind.execute(sa.text("UPDATE process_instances SET organisation_id = :org"), {"org": org_id})
    bind.execute(sa.text("UPDATE open_tasks SET organisation_id = :org"), {"org": org_id})


def _provider_section() -> dict[str, str] | None:
    """The ``[provider]`` table of the single-school settings file, if there is one."""
    path = Path(os.environ.get("HOMESCHOOL_PROVIDER_FILE", "config/provider.toml"))
    try:
        with path.open("rb") as handle:
            section = tomllib.load(handle).get("provider")
    except (OSError, tomllib.TOMLDecodeError):
        return None
    if not isinstance(section, dict) or not isinstance(section.get("bin"), str):
        return None
    return {key: str(value).strip() for key, value in section.items()}


def downgrade() -> None:
    with op.batch_alter_table("staff_users") as batch:
        batch.add_column(sa.Column("roles", sa.String(400), nullable=False, server_default=""))
    bind = op.get_bind()
    for staff_id, roles in bind.execute(sa.text("SELECT staff_id, roles FROM memberships")).all():
        bind.execute(sa.text("UPDATE staff_users SET roles = :roles WHERE id = :id"), {"roles": roles, "id": staff_id})
    with op.batch_alter_table("staff_users") as batch:
        batch.drop_column("national_admin")
    op.drop_index("ix_open_tasks_org_lane_created", table_name="open_tasks")
    op.create_index("ix_open_tasks_lane_created", "open_tasks", ["lane", "created_at", "task_id"])
    op.drop_column("open_tasks", "organisation_id")
    with op.batch_alter_table("process_instances") as batch:
        batch.drop_index("ix_process_instances_related_instance_id")
        batch.drop_index("ix_process_instances_appealed_organisation_id")
        batch.drop_index("ix_process_instances_organisation_id")
        batch.drop_constraint("fk_instance_related", type_="foreignkey")
        batch.drop_constraint("fk_instance_appealed", type_="foreignkey")
        batch.drop_constraint("fk_instance_organisation", type_="foreignkey")
        batch.drop_column("related_instance_id")
        batch.drop_column("appealed_organisation_id")
        batch.drop_column("organisation_id")
    op.drop_table("memberships")
    op.drop_table("organisations")
