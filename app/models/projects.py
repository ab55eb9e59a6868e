"""Customer electrical projects (客户工程/业扩报装, ENG-01 to ENG-17): tables.

One :class:`PowerApplication` (用电申请) per new connection (新装) or capacity
increase (增容) is the project; its children carry each stage: the supply plan
(供电方案) with its written reply (供电方案通知书), changes to an agreed plan,
the design review (设计审查) with its opinion (设计审查意见书), the construction
record (contractor, start report 开工报告), equipment orders, construction
changes, mid-construction inspections (中间检查) and, on the project itself,
acceptance, the supply contract (供用电合同), power-on and the on-site check.
"""
from flask_appbuilder.security.sqla.models import User
from flask_babel import lazy_gettext as _l
from sqlalchemy import (
    Boolean, Column, Date, DateTime, Float, ForeignKey, Index, Integer, String, Text,
    UniqueConstraint,
)
from sqlalchemy.orm import relationship

from .base import ChoiceSet, Model, RecordMixin, VersionedMixin


# ---------------------------------------------------------------------------
# Closed value sets
# ---------------------------------------------------------------------------

class ApplicationKind(ChoiceSet):
    NEW = "new"
    INCREASE = "increase"
    CHOICES = [(NEW, _l("New connection"), "info"), (INCREASE, _l("Capacity increase"), "primary")]


class VoltageLevel(ChoiceSet):
    """Supply voltage; 0.22/0.38 kV are low voltage (低压), the rest high voltage (高压)."""

    LV_220 = "0.22kV"
    LV_380 = "0.38kV"
    HV_10 = "10kV"
    HV_35 = "35kV"
    HV_110 = "110kV"
    LOW = (LV_220, LV_380)
    CHOICES = [
        (LV_220, _l("0.22 kV (low voltage)"), "default"),
        (LV_380, _l("0.38 kV (low voltage)"), "default"),
        (HV_10, _l("10 kV (high voltage)"), "primary"),
        (HV_35, _l("35 kV (high voltage)"), "primary"),
        (HV_110, _l("110 kV (high voltage)"), "primary"),
    ]


class CapacityUnit(ChoiceSet):
    KW = "kW"
    KVA = "kVA"
    CHOICES = [(KW, "kW", "default"), (KVA, "kVA", "default")]


class LoadClass(ChoiceSet):
    """Load class (负荷等级) by the consequences of an interruption."""

    FIRST = "1"
    SECOND = "2"
    THIRD = "3"
    CHOICES = [(FIRST, _l("Class 1 load"), "danger"), (SECOND, _l("Class 2 load"), "warning"),
               (THIRD, _l("Class 3 load"), "default")]


class LoadNature(ChoiceSet):
    RESIDENTIAL = "residential"
    COMMERCIAL = "commercial"
    INDUSTRIAL = "industrial"
    PUBLIC = "public"
    AGRICULTURAL = "agricultural"
    CHOICES = [
        (RESIDENTIAL, _l("Residential"), "default"),
        (COMMERCIAL, _l("Commercial"), "info"),
        (INDUSTRIAL, _l("Industrial"), "primary"),
        (PUBLIC, _l("Public services"), "info"),
        (AGRICULTURAL, _l("Agricultural"), "success"),
    ]


class ReviewRoute(ChoiceSet):
    """Who reviews the design (ENG-05) and the role that unit's staff hold."""

    STATION = "station"
    BRANCH = "branch"
    CITY = "city"
    CHOICES = [
        (STATION, _l("Supply station"), "default"),
        (BRANCH, _l("Branch marketing department"), "info"),
        (CITY, _l("City company"), "primary"),
    ]
    ROLES = {STATION: "SupplyStation", BRANCH: "Marketing", CITY: "CityCompany"}


class ReplyUnit(ChoiceSet):
    """Who answers the supply plan in writing (ENG-03)."""

    BRANCH = "branch"
    COMPANY = "company"
    CHOICES = [(BRANCH, _l("Branch marketing department"), "info"),
               (COMPANY, _l("City company"), "primary")]
    ROLES = {BRANCH: "Marketing", COMPANY: "CityCompany"}


class CapacityBand(ChoiceSet):
    SMALL = "le10kw"
    MEDIUM = "lt1000"
    LARGE = "lt3000"
    HUGE = "ge3000"
    CHOICES = [
        (SMALL, _l("Up to 10 kW"), "default"),
        (MEDIUM, _l("Up to 1000 kVA"), "info"),
        (LARGE, _l("1000–3000 kVA"), "warning"),
        (HUGE, _l("3000 kVA or more"), "danger"),
    ]


class Stage(ChoiceSet):
    """Where a project stands (the main workflow's states)."""

    RECEIVED = "received"
    PLANNING = "planning"
    DESIGN = "design_review"
    CONSTRUCTION = "construction"
    ACCEPTANCE = "acceptance"
    ACCEPTED = "accepted"
    POWERED = "powered"
    COMPLETED = "completed"
    WITHDRAWN = "withdrawn"
    CHOICES = [
        (RECEIVED, _l("Application received"), "default"),
        (PLANNING, _l("Supply plan"), "info"),
        (DESIGN, _l("Design review"), "info"),
        (CONSTRUCTION, _l("Construction"), "primary"),
        (ACCEPTANCE, _l("Acceptance requested"), "warning"),
        (ACCEPTED, _l("Accepted, awaiting power-on"), "warning"),
        (POWERED, _l("Powered on, check due"), "success"),
        (COMPLETED, _l("Completed"), "success"),
        (WITHDRAWN, _l("Withdrawn"), "default"),
    ]
    PATH = [RECEIVED, PLANNING, DESIGN, CONSTRUCTION, ACCEPTANCE, ACCEPTED, POWERED, COMPLETED]


class ResponsibleUnit(ChoiceSet):
    WINDOW = "ServiceWindow"
    MARKETING = "Marketing"
    STATION = "SupplyStation"
    CITY = "CityCompany"
    INSPECTOR = "Inspector"
    NONE = "none"
    CHOICES = [
        (WINDOW, _l("Service window"), "default"),
        (MARKETING, _l("Marketing department"), "info"),
        (STATION, _l("Supply station"), "default"),
        (CITY, _l("City company"), "primary"),
        (INSPECTOR, _l("Inspector"), "warning"),
        (NONE, _l("Nobody (closed)"), "default"),
    ]


class SupplyMode(ChoiceSet):
    PUBLIC_TRANSFORMER = "public"
    DEDICATED_TRANSFORMER = "transformer"
    DEDICATED_LINE = "line"
    CHOICES = [
        (PUBLIC_TRANSFORMER, _l("From a public transformer (公变)"), "default"),
        (DEDICATED_TRANSFORMER, _l("Dedicated transformer (专变)"), "info"),
        (DEDICATED_LINE, _l("Dedicated line (专线)"), "primary"),
    ]


class MeteringMethod(ChoiceSet):
    LV_DIRECT = "lv_direct"
    LV_CT = "lv_ct"
    HV_LV_SIDE = "hv_lv_side"
    HV_HV_SIDE = "hv_hv_side"
    CHOICES = [
        (LV_DIRECT, _l("Low voltage, direct meter"), "default"),
        (LV_CT, _l("Low voltage, via current transformers"), "default"),
        (HV_LV_SIDE, _l("High-voltage supply, metered on the low-voltage side"), "info"),
        (HV_HV_SIDE, _l("High-voltage supply, metered on the high-voltage side"), "info"),
    ]


class BackupScheme(ChoiceSet):
    """How backup or security power (备用/保安电源) is provided, by load class (ENG-02)."""

    NONE = "none"
    DUAL_SOURCE = "dual_source"
    DUAL_CIRCUIT = "dual_circuit"
    OWN_GENERATOR = "own_generator"
    CHOICES = [
        (NONE, _l("None"), "default"),
        (DUAL_SOURCE, _l("Two independent sources (双电源)"), "danger"),
        (DUAL_CIRCUIT, _l("Two circuits (双回路)"), "warning"),
        (OWN_GENERATOR, _l("Customer's own backup generator (自备电源)"), "info"),
    ]


class PlanStatus(ChoiceSet):
    DRAFT = "draft"
    SUBMITTED = "submitted"
    REVIEWED = "reviewed"
    SIGNED = "signed"
    SENT = "sent"
    CHOICES = [
        (DRAFT, _l("Draft"), "default"),
        (SUBMITTED, _l("Awaiting department-head review"), "warning"),
        (REVIEWED, _l("Awaiting general-manager sign-off"), "warning"),
        (SIGNED, _l("Signed, ready to send"), "info"),
        (SENT, _l("Reply sent"), "success"),
    ]


class ChangeStatus(ChoiceSet):
    REQUESTED = "requested"
    APPROVED = "approved"
    REFUSED = "refused"
    DONE = "done"
    CHOICES = [
        (REQUESTED, _l("Awaiting approval"), "warning"),
        (APPROVED, _l("Approved"), "success"),
        (REFUSED, _l("Refused"), "danger"),
        (DONE, _l("Carried out"), "default"),
    ]


class ReviewStatus(ChoiceSet):
    SUBMITTED = "submitted"
    RETURNED = "returned"
    PASSED = "passed"
    CHOICES = [
        (SUBMITTED, _l("Under review"), "warning"),
        (RETURNED, _l("Returned for rework"), "danger"),
        (PASSED, _l("Passed"), "success"),
    ]


class OrderStatus(ChoiceSet):
    REQUESTED = "requested"
    APPROVED = "approved"
    REFUSED = "refused"
    ORDERED = "ordered"
    DELIVERED = "delivered"
    CHOICES = [
        (REQUESTED, _l("Awaiting marketing approval"), "warning"),
        (APPROVED, _l("Approved, may be ordered"), "info"),
        (REFUSED, _l("Refused"), "danger"),
        (ORDERED, _l("Ordered"), "primary"),
        (DELIVERED, _l("Delivered"), "success"),
    ]


class ChangeSubject(ChoiceSet):
    PLAN = "plan"
    DRAWINGS = "drawings"
    DESIGN = "design"
    CHOICES = [(PLAN, _l("Supply or construction plan"), "default"),
               (DRAWINGS, _l("Drawings"), "default"), (DESIGN, _l("Design"), "default")]


class InspectionStatus(ChoiceSet):
    REQUESTED = "requested"
    PASSED = "passed"
    RECTIFY = "rectify"
    CHOICES = [
        (REQUESTED, _l("Requested"), "warning"),
        (PASSED, _l("Passed"), "success"),
        (RECTIFY, _l("Rectification required"), "danger"),
    ]


class CheckResult(ChoiceSet):
    """Result of one check area of a mid-construction inspection."""

    OK = "ok"
    DEFECT = "defect"
    CHOICES = [(OK, _l("Conforms"), "success"), (DEFECT, _l("Defect found"), "danger")]


# The five check areas of ENG-12 (field name, label).
CHECK_AREAS = [
    ("check_equipment", _l("Electrical equipment")),
    ("check_transformer", _l("Transformer capacity")),
    ("check_relay", _l("Relay protection")),
    ("check_lightning", _l("Lightning protection")),
    ("check_earthing", _l("Earthing")),
]

# ENG-06: the design documents a high-voltage customer submits (attachment kinds).
DESIGN_DOCUMENTS = [
    ("doc_design", _l("Design of the receiving installation and its description (受电工程设计及说明书)")),
    ("doc_load_map", _l("Load distribution map (用电负荷分布图)")),
    ("doc_load_nature", _l("Load composition, nature and security loads (负荷组成、性质及保安负荷)")),
    ("doc_quality", _l("Equipment affecting power quality (影响电能质量的用电设备清单)")),
    ("doc_equipment", _l("Main equipment electrical list (主要设备电气一览表)")),
    ("doc_process", _l("Main production equipment, consumption and tolerable interruption "
                       "(主要生产设备、生产工艺耗电以及允许中断供电时间)")),
    ("doc_wiring", _l("Primary and secondary wiring diagrams and layout "
                      "(高压受电装置一、二次接线图与平面布置图)")),
    ("doc_power_factor", _l("Power factor calculation and reactive compensation "
                            "(用电功率因数计算及无功补偿方式)")),
    ("doc_protection", _l("Relay, overvoltage protection and metering arrangement "
                          "(继电保护、过电压保护及电能计量装置的方式)")),
    ("doc_concealed", _l("Concealed works design (隐蔽工程设计资料)")),
    ("doc_network", _l("Distribution network layout (配电网络布置图)")),
    ("doc_own_source", _l("Own power source and its connection (自备电源及接线方式)")),
]


# ---------------------------------------------------------------------------
# The project
# ---------------------------------------------------------------------------

class PowerApplication(RecordMixin, VersionedMixin, Model):
    """A customer's application (用电申请) and the project that follows it (ENG-01).

    ``stage`` is the main workflow's state; ``review_route``, ``capacity_band``
    and ``responsible_unit`` are derived and stored so that lists can filter
    by them (kept current by the services).
    """

    __tablename__ = "power_application"
    __table_args__ = (
        Index("ix_power_application_stage_unit", "stage", "responsible_unit"),
        # The list's default order, its filters and sort columns.
        Index("ix_power_application_received_at", "received_at"),
        Index("ix_power_application_kind", "kind"),
        Index("ix_power_application_voltage_level", "voltage_level"),
        Index("ix_power_application_load_nature", "load_nature"),
        Index("ix_power_application_received_by_id", "received_by_id"),
    )

    id = Column(Integer, primary_key=True)
    number = Column(String(20), nullable=False, unique=True)
    kind = Column(String(16), nullable=False, default=ApplicationKind.NEW,
                  info={"choices": ApplicationKind})
    customer_name = Column(String(120), nullable=False, index=True)
    contact_person = Column(String(64), nullable=True)
    contact_phone = Column(String(32), nullable=True)
    address = Column(String(200), nullable=False)
    voltage_level = Column(String(10), nullable=False, info={"choices": VoltageLevel})
    requested_capacity = Column(Float, nullable=False)
    capacity_unit = Column(String(4), nullable=False, default=CapacityUnit.KVA,
                           info={"choices": CapacityUnit})
    existing_capacity = Column(Float, nullable=True)  # for a capacity increase, same unit
    load_class = Column(String(2), nullable=False, default=LoadClass.THIRD,
                        info={"choices": LoadClass})
    load_nature = Column(String(16), nullable=False, default=LoadNature.INDUSTRIAL,
                         info={"choices": LoadNature})
    backup_power = Column(Boolean, nullable=False, default=False)
    residential_lighting = Column(Boolean, nullable=False, default=False)
    built_by_company = Column(Boolean, nullable=False, default=False)
    description = Column(Text, nullable=True)
    received_at = Column(DateTime, nullable=False)
    received_by_id = Column(Integer, ForeignKey("ab_user.id"), nullable=True)

    stage = Column(String(20), nullable=False, default=Stage.RECEIVED, index=True,
                   info={"choices": Stage})
    review_route = Column(String(10), nullable=True, index=True, info={"choices": ReviewRoute})
    capacity_band = Column(String(10), nullable=True, index=True, info={"choices": CapacityBand})
    responsible_unit = Column(String(16), nullable=True, index=True,
                              info={"choices": ResponsibleUnit})

    # ENG-13: completion report and acceptance request
    works_completed_on = Column(Date, nullable=True)
    completion_reported_at = Column(DateTime, nullable=True)
    accepted_at = Column(DateTime, nullable=True)
    # ENG-14: supply contract (供用电合同)
    contract_no = Column(String(40), nullable=True)
    contract_signed_on = Column(Date, nullable=True)
    # ENG-15: meter-install notice (装表通知单)
    meter_notice_at = Column(DateTime, nullable=True)
    power_on_at = Column(DateTime, nullable=True)
    # ENG-16: on-site check after power-on
    checked_at = Column(DateTime, nullable=True)
    check_findings = Column(Text, nullable=True)

    received_by = relationship(User, foreign_keys=[received_by_id])
    plan = relationship("SupplyPlan", uselist=False, back_populates="application")
    review = relationship("DesignReview", uselist=False, back_populates="application")
    construction = relationship("ConstructionRecord", uselist=False, back_populates="application")

    @property
    def is_high_voltage(self):
        return self.voltage_level not in VoltageLevel.LOW

    def __str__(self):
        return f"{self.number} {self.customer_name}"


class SupplyPlan(RecordMixin, VersionedMixin, Model):
    """The supply plan (供电方案) and its written reply (供电方案通知书) (ENG-02, ENG-03)."""

    __tablename__ = "supply_plan"

    id = Column(Integer, primary_key=True)
    application_id = Column(Integer, ForeignKey("power_application.id"), nullable=False,
                            unique=True)
    approved_capacity_kva = Column(Float, nullable=False)
    supply_voltage = Column(String(10), nullable=False, info={"choices": VoltageLevel})
    supply_mode = Column(String(16), nullable=False, default=SupplyMode.PUBLIC_TRANSFORMER,
                         info={"choices": SupplyMode})
    dual_supply = Column(Boolean, nullable=False, default=False)
    backup_scheme = Column(String(16), nullable=False, default=BackupScheme.NONE,
                           info={"choices": BackupScheme})
    metering_method = Column(String(16), nullable=False, default=MeteringMethod.LV_DIRECT,
                             info={"choices": MeteringMethod})
    economics = Column(Text, nullable=True)  # 经济性: fees, investment split
    remarks = Column(Text, nullable=True)
    reply_unit = Column(String(10), nullable=True, info={"choices": ReplyUnit})
    status = Column(String(12), nullable=False, default=PlanStatus.DRAFT, index=True,
                    info={"choices": PlanStatus})
    reply_no = Column(String(30), nullable=True)
    sent_at = Column(DateTime, nullable=True)

    application = relationship(PowerApplication, back_populates="plan")

    def __str__(self):
        return f"{self.application.number} {self.approved_capacity_kva:g} kVA"


class PlanChange(RecordMixin, VersionedMixin, Model):
    """A request to change an agreed supply plan; the approving unit consents (ENG-04)."""

    __tablename__ = "supply_plan_change"

    id = Column(Integer, primary_key=True)
    application_id = Column(Integer, ForeignKey("power_application.id"), nullable=False,
                            index=True)
    reason = Column(Text, nullable=False)
    new_capacity_kva = Column(Float, nullable=True)
    new_supply_mode = Column(String(16), nullable=True, info={"choices": SupplyMode})
    new_dual_supply = Column(Boolean, nullable=True)
    new_metering_method = Column(String(16), nullable=True, info={"choices": MeteringMethod})
    approving_unit = Column(String(10), nullable=False, info={"choices": ReplyUnit})
    status = Column(String(12), nullable=False, default=ChangeStatus.REQUESTED, index=True,
                    info={"choices": ChangeStatus})

    application = relationship(PowerApplication)

    def __str__(self):
        return f"{self.application.number} #{self.id}"


class DesignReview(RecordMixin, VersionedMixin, Model):
    """Design review (设计审查) routed by size, ending in an opinion (设计审查意见书) (ENG-05, ENG-06)."""

    __tablename__ = "design_review"

    id = Column(Integer, primary_key=True)
    application_id = Column(Integer, ForeignKey("power_application.id"), nullable=False,
                            unique=True)
    route = Column(String(10), nullable=False, index=True, info={"choices": ReviewRoute})
    designer = Column(String(120), nullable=True)
    status = Column(String(12), nullable=False, default=ReviewStatus.SUBMITTED, index=True,
                    info={"choices": ReviewStatus})
    opinion = Column(Text, nullable=True)
    opinion_no = Column(String(30), nullable=True)
    reviewed_by_id = Column(Integer, ForeignKey("ab_user.id"), nullable=True, index=True)
    reviewed_at = Column(DateTime, nullable=True)

    application = relationship(PowerApplication, back_populates="review")
    reviewed_by = relationship(User, foreign_keys=[reviewed_by_id])

    def __str__(self):
        return f"{self.application.number}"


class ConstructionRecord(RecordMixin, VersionedMixin, Model):
    """Construction (施工): firms the customer chose, contractor checks, start report (ENG-07, 08, 10)."""

    __tablename__ = "construction_record"

    id = Column(Integer, primary_key=True)
    application_id = Column(Integer, ForeignKey("power_application.id"), nullable=False,
                            unique=True)
    # ENG-07: no "three designations" (三指定)
    designer = Column(String(120), nullable=True)
    builder = Column(String(120), nullable=True)
    supplier = Column(String(120), nullable=True)
    customer_chose_firms = Column(Boolean, nullable=False, default=False)
    qualified_list_shown = Column(Boolean, nullable=False, default=False)
    # ENG-08: contractor qualification (资质证) and business licence (营业执照)
    qualification_cert_no = Column(String(60), nullable=True)
    qualification_valid_until = Column(Date, nullable=True)
    business_licence_no = Column(String(60), nullable=True)
    licence_valid_until = Column(Date, nullable=True)
    # ENG-10: start report (开工报告)
    start_date = Column(Date, nullable=True)
    expected_completion = Column(Date, nullable=True)
    schedule = Column(Text, nullable=True)  # 工程任务进度表
    start_reported_at = Column(DateTime, nullable=True)

    application = relationship(PowerApplication, back_populates="construction")

    def __str__(self):
        return f"{self.application.number}"


class Manufacturer(RecordMixin, VersionedMixin, Model):
    """The approved catalogue of qualified manufacturers (合格厂家目录) (ENG-09)."""

    __tablename__ = "approved_manufacturer"

    id = Column(Integer, primary_key=True)
    name = Column(String(120), nullable=False, unique=True)
    products = Column(String(200), nullable=False)  # 认定产品, comma-separated categories
    certificate_no = Column(String(60), nullable=True)
    approved_until = Column(Date, nullable=True)
    active = Column(Boolean, nullable=False, default=True)

    def product_list(self):
        return [item.strip() for item in (self.products or "").replace("，", ",").split(",")
                if item.strip()]

    def __str__(self):
        return self.name


class EquipmentOrder(RecordMixin, VersionedMixin, Model):
    """An equipment order: marketing approves before it is placed; delivery reported (ENG-09)."""

    __tablename__ = "equipment_order"

    id = Column(Integer, primary_key=True)
    application_id = Column(Integer, ForeignKey("power_application.id"), nullable=False,
                            index=True)
    manufacturer_id = Column(Integer, ForeignKey("approved_manufacturer.id"), nullable=False,
                             index=True)
    category = Column(String(60), nullable=False)
    model_spec = Column(String(120), nullable=False)
    quantity = Column(Integer, nullable=False, default=1)
    status = Column(String(12), nullable=False, default=OrderStatus.REQUESTED, index=True,
                    info={"choices": OrderStatus})
    ordered_on = Column(Date, nullable=True)
    delivered_on = Column(Date, nullable=True)
    delivery_details = Column(Text, nullable=True)

    application = relationship(PowerApplication)
    manufacturer = relationship(Manufacturer)

    def __str__(self):
        return f"{self.application.number} {self.category} {self.model_spec}"


class ConstructionChange(RecordMixin, VersionedMixin, Model):
    """A change to plan, drawings or design during construction; approved in writing first (ENG-11)."""

    __tablename__ = "construction_change"

    id = Column(Integer, primary_key=True)
    application_id = Column(Integer, ForeignKey("power_application.id"), nullable=False,
                            index=True)
    subject = Column(String(12), nullable=False, info={"choices": ChangeSubject})
    description = Column(Text, nullable=False)
    status = Column(String(12), nullable=False, default=ChangeStatus.REQUESTED, index=True,
                    info={"choices": ChangeStatus})
    approval_no = Column(String(30), nullable=True)  # 更改书面通知
    carried_out_on = Column(Date, nullable=True)

    application = relationship(PowerApplication)

    def __str__(self):
        return f"{self.application.number} #{self.id}"


class MidInspection(RecordMixin, VersionedMixin, Model):
    """A mid-construction inspection (中间检查) and its opinion in triplicate (ENG-12)."""

    __tablename__ = "mid_inspection"
    __table_args__ = (UniqueConstraint("application_id", "round_no"),)

    id = Column(Integer, primary_key=True)
    application_id = Column(Integer, ForeignKey("power_application.id"), nullable=False,
                            index=True)
    round_no = Column(Integer, nullable=False)
    installed_percent = Column(Integer, nullable=False)
    planned_on = Column(Date, nullable=True)
    inspector_id = Column(Integer, ForeignKey("ab_user.id"), nullable=True, index=True)
    check_equipment = Column(String(8), nullable=True, info={"choices": CheckResult})
    check_transformer = Column(String(8), nullable=True, info={"choices": CheckResult})
    check_relay = Column(String(8), nullable=True, info={"choices": CheckResult})
    check_lightning = Column(String(8), nullable=True, info={"choices": CheckResult})
    check_earthing = Column(String(8), nullable=True, info={"choices": CheckResult})
    findings = Column(Text, nullable=True)
    rectification_items = Column(Text, nullable=True)
    status = Column(String(12), nullable=False, default=InspectionStatus.REQUESTED, index=True,
                    info={"choices": InspectionStatus})
    inspected_at = Column(DateTime, nullable=True)

    application = relationship(PowerApplication)
    inspector = relationship(User, foreign_keys=[inspector_id])

    def __str__(self):
        return f"{self.application.number} #{self.round_no}"
