"""The baseline of bench/load.py: a bare Django view that inserts one row.

It reads the same JSON body as the report API and writes its description into a table that
bench/load.py creates before the run and drops after it (no model, no migration).
"""

import json

from django.db import connection
from django.http import JsonResponse
from django.views.decorators.csrf import csrf_exempt

TABLE = "bench_load_insert"


@csrf_exempt
def insert(request):
    data = json.loads(request.body)
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {TABLE} (body, created_at) VALUES (%s, now()) RETURNING id",  # noqa: S608
            [data.get("description", "")],
        )
        (row_id,) = cursor.fetchone()
    return JsonResponse({"id": row_id}, status=201)
