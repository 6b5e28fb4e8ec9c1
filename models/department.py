import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from tracker.extensions import db


class Department(db.Model):
    __tablename__ = "departments"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(sa.String(32), unique=True)
    name: Mapped[str] = mapped_column(sa.String(200), unique=True)
    psga_covered: Mapped[bool] = mapped_column(default=False)
    active: Mapped[bool] = mapped_column(default=True)

    users = relationship("User", back_populates="department", foreign_keys="User.department_id")
    nodal_officer = relationship(
        "User",
        primaryjoin="and_(User.department_id == Department.id, User.role == 'nodal', User.active)",
        viewonly=True,
        uselist=False,
    )

    __table_args__ = (sa.CheckConstraint("code = lower(code)", name="code_lowercase"),)

    def __repr__(self):
        return f"<Department {self.code}>"
