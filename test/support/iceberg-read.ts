/**
 * Python scripts that read an Iceberg table back with pyiceberg and with DuckDB's iceberg_scan, for the tests that
 * check what the file sink committed. Each writes every row as JSON (maps as objects, timestamps as ISO strings in
 * milliseconds), so both readers' answers can be compared with the stdout sink's lines the same way.
 */
import { DUCKDB_LOAD_EXTENSIONS } from '../services/iceberg-readers.js';

/** Where the table is and how to reach it; passed to the scripts as one JSON argument. */
export interface TableAccess {
  readonly catalogUri: string;
  readonly warehouse: string;
  readonly credential: string;
  readonly s3Endpoint: string;
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly namespace: string;
  readonly name: string;
}

const NORMALIZE = `
import datetime, json, math, sys
def norm(v):
    if isinstance(v, datetime.datetime):
        if v.tzinfo is None:
            v = v.replace(tzinfo=datetime.timezone.utc)
        return v.astimezone(datetime.timezone.utc).strftime('%Y-%m-%dT%H:%M:%S.') + '%03dZ' % (v.microsecond // 1000)
    if isinstance(v, float) and math.isnan(v):
        return 'NaN'
    if isinstance(v, dict):
        # DuckDB gives a MAP as {'key': [...], 'value': [...]} in some versions
        if set(v.keys()) == {'key', 'value'} and isinstance(v['key'], list):
            return {k: norm(x) for k, x in zip(v['key'], v['value'])}
        return {k: norm(x) for k, x in v.items()}
    if isinstance(v, list):
        if all(isinstance(x, tuple) and len(x) == 2 for x in v) and len(v) > 0:
            return {k: norm(x) for k, x in v}
        return [norm(x) for x in v]
    if isinstance(v, tuple):
        return [norm(x) for x in v]
    return v
access = json.loads(sys.argv[2])
`;

/** pyiceberg: the REST catalog, then a full scan to Arrow; also the table's schema and snapshots. */
export const PYICEBERG_SCAN = `${NORMALIZE}
from pyiceberg.catalog import load_catalog
catalog = load_catalog('rest', **{
    'type': 'rest', 'uri': access['catalogUri'], 'warehouse': access['warehouse'], 'credential': access['credential'],
    's3.endpoint': access['s3Endpoint'], 's3.access-key-id': access['accessKeyId'],
    's3.secret-access-key': access['secretAccessKey'], 's3.region': 'us-east-1',
})
table = catalog.load_table((access['namespace'], access['name']))
rows = [{k: norm(v) for k, v in r.items()} for r in table.scan().to_arrow().to_pylist()]
out = {
    'rows': rows,
    'metadata_location': table.metadata_location,
    'columns': [f.name for f in table.schema().fields],
    'schemas': len(table.metadata.schemas),
    'snapshots': [dict(s.summary.additional_properties, operation=str(s.summary.operation.value)) for s in table.metadata.snapshots],
}
json.dump(out, open(sys.argv[1], 'w'))
`;

/** DuckDB: iceberg_scan of the metadata file pyiceberg reported, over httpfs with an S3 secret. */
export const DUCKDB_SCAN = `${NORMALIZE}${DUCKDB_LOAD_EXTENSIONS}
con = duckdb_with_extensions()
endpoint = access['s3Endpoint'].replace('http://', '')
con.execute(f"""CREATE SECRET s3 (TYPE s3, KEY_ID '{access['accessKeyId']}', SECRET '{access['secretAccessKey']}',
    ENDPOINT '{endpoint}', URL_STYLE 'path', USE_SSL false, REGION 'us-east-1')""")
cur = con.execute("SELECT * FROM iceberg_scan(?)", [sys.argv[3]])
names = [d[0] for d in cur.description]
rows = [{n: norm(v) for n, v in zip(names, r)} for r in cur.fetchall()]
json.dump({'rows': rows}, open(sys.argv[1], 'w'))
`;

/** DuckDB: one SQL query over the table (`{table}` stands for its iceberg_scan), rows as JSON arrays. */
export const DUCKDB_QUERY = `${NORMALIZE}${DUCKDB_LOAD_EXTENSIONS}
con = duckdb_with_extensions()
endpoint = access['s3Endpoint'].replace('http://', '')
con.execute(f"""CREATE SECRET s3 (TYPE s3, KEY_ID '{access['accessKeyId']}', SECRET '{access['secretAccessKey']}',
    ENDPOINT '{endpoint}', URL_STYLE 'path', USE_SSL false, REGION 'us-east-1')""")
sql = sys.argv[4].replace('{table}', "iceberg_scan('" + sys.argv[3] + "')")
rows = [[norm(v) for v in r] for r in con.execute(sql).fetchall()]
json.dump({'rows': rows}, open(sys.argv[1], 'w'), default=str)
`;
