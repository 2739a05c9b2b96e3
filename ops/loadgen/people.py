"""Who is reported and who reports: pools drawn from again and again, as in life (the same clinic
is reported by several people, the same citizen reports more than once).

Blind indexes are the vault's own HMAC, computed once per distinct value. Reporter identities are
sealed for real, per row: a fresh AES-256-GCM data key wrapped by the key ring's current
key-encryption key, each field encrypted with associated data binding table, row and field, as
ReporterIdentity.set_values does, just without building a model instance per row.
"""

import os

from tipline.models import ReporterIdentity
from vault import crypto

SURNAMES = "李王张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗"
BUSINESSES = ("诊所", "B超室", "药店", "卫生室", "私人诊所", "妇科门诊", "保健站", "流动B超车")
STREETS = ("人民路", "建设路", "解放路", "中山路", "新华街", "东风路", "胜利街", "文化路")
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀英华"
DESCRIPTIONS = (
    "{name}给孕妇做B超鉴定胎儿性别，每次收费几百元，晚上也营业。",
    "听说{name}可以查男女，有人在那里做了引产。",
    "{name}私下出售堕胎药，不需要处方。",
    "{name}在{address}附近用流动B超车给人看胎儿性别。",
    "亲戚说{name}能做性别鉴定，还介绍到外地引产。",
    "{name}无证行医，给怀孕的人做检查并告诉男女。",
)
IDENTITY_FIELDS = ["id", "kek_version", "wrapped_key", "report", "name_sealed", "phone_sealed",
                   "id_number_sealed", "phone_index", "id_number_index", "news_by_sms"]  # fmt: skip


def new_id(rng) -> str:
    """A version-4 UUID in its text form, from the generator's own random stream: uuid.uuid4()
    and UUID objects cost several times more, and the text is what COPY and audit entries take."""
    n = rng.getrandbits(128) & ~(0xF000 << 64 | 0xC000 << 48) | (0x4000 << 64 | 0x8000 << 48)
    h = f"{n:032x}"
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


def subject(rng) -> tuple[str, str, str, str]:
    """(name, address, phone, phone blind index) of a reported person or business."""
    name = rng.choice(SURNAMES) + rng.choice(("记", "氏", "家", "")) + rng.choice(BUSINESSES)
    address = f"{rng.choice(STREETS)}{rng.randrange(1, 300)}号"
    phone = f"13{rng.randrange(10**9):09d}" if rng.random() < 0.6 else ""
    return name, address, phone, crypto.blind_index("phone", phone) if phone else ""


def reporter(rng) -> tuple[str, str, str, str, str]:
    """(name, phone, id number, phone index, id number index) of a reporter."""
    name = rng.choice(SURNAMES) + "".join(rng.choice(GIVEN) for _ in range(rng.randrange(1, 3)))
    phone = f"15{rng.randrange(10**9):09d}"
    id_number = f"4{rng.randrange(10**16):016d}{rng.choice('0123456789X')}"
    return (
        name,
        phone,
        id_number,
        crypto.blind_index("phone", phone),
        crypto.blind_index("id_number", id_number),
    )


def description(rng, name: str, address: str) -> str:
    return rng.choice(DESCRIPTIONS).format(name=name, address=address)


def sealed_identity(ring, row_id: str, report_id, who, news_by_sms: bool) -> tuple:
    """One ReporterIdentity row, sealed like the model seals it."""
    table = ReporterIdentity._meta.db_table
    row = row_id
    dek = os.urandom(32)
    wrapped = crypto.wrap_key(dek, table, row, ring.current_kek, ring)
    name, phone, id_number, phone_index, id_index = who
    return (
        row_id,
        ring.current_kek,
        wrapped,
        report_id,
        crypto.encrypt(dek, name.encode(), table, row, "name"),
        crypto.encrypt(dek, phone.encode(), table, row, "phone"),
        crypto.encrypt(dek, id_number.encode(), table, row, "id_number"),
        phone_index,
        id_index,
        news_by_sms,
    )
