import { z } from 'zod';
import { duration } from '../../../src/component/duration.js';

/** Keys that would put a secret in the pipeline file. */
const INLINE_SECRETS = ['credential', 'token', 'client_secret', 'access_key_id', 'secret_access_key'];

const catalog = z
  .strictObject({
    type: z
      .literal('rest')
      .describe('rest: an Iceberg REST catalog (Polaris, Nessie, Lakekeeper, Glue, SeaweedFS…).'),
    uri: z.url().describe('The catalog endpoint, e.g. http://seaweedfs:8181 (the part before /v1/…).'),
    warehouse: z
      .string()
      .min(1)
      .optional()
      .describe(
        'Warehouse sent to GET /v1/config, e.g. s3://lake; the catalog answers with its path prefix.',
      ),
    credential_env: z
      .string()
      .min(1)
      .optional()
      .describe(
        'Environment variable holding the OAuth2 client credential `client_id:client_secret`, exchanged at /v1/oauth/tokens (SeaweedFS: the S3 access key and secret).',
      ),
    credential_file: z
      .string()
      .min(1)
      .optional()
      .describe("File holding that credential (relative to the pipeline file's directory)."),
    timeout: duration()
      .default(30_000)
      .describe(
        'Limit of each catalog request; a commit that times out is checked for before it is retried.',
      ),
    token_env: z
      .string()
      .min(1)
      .optional()
      .describe('Environment variable holding a bearer token, for catalogs that hand out long-lived tokens.'),
  })
  .superRefine((value, ctx) => {
    if (value.credential_env !== undefined && value.credential_file !== undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['credential_file'],
        message: 'set credential_env or credential_file, not both',
      });
    }
  });

const storage = z.strictObject({
  endpoint: z
    .url()
    .optional()
    .describe('S3 endpoint of the table storage; https://s3.<region>.amazonaws.com when absent.'),
  region: z.string().min(1).default('us-east-1').describe('The region S3 requests are signed for.'),
  force_path_style: z
    .boolean()
    .default(false)
    .describe('Address the bucket in the path (endpoint/bucket/key), as MinIO and SeaweedFS expect.'),
  credentials: z
    .enum(['env', 'web_identity'])
    .default('env')
    .describe(
      'env: AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (AWS_SESSION_TOKEN). web_identity: AWS_ROLE_ARN + AWS_WEB_IDENTITY_TOKEN_FILE (EKS IRSA).',
    ),
});

export const tableConfig = z
  .preprocess(
    (value, ctx) => {
      if (typeof value !== 'object' || value === null) return value;
      const cat = (value as { catalog?: unknown }).catalog;
      if (typeof cat === 'object' && cat !== null) {
        for (const key of INLINE_SECRETS) {
          if (key in cat) {
            ctx.issues.push({
              code: 'custom',
              path: ['catalog', key],
              input: value,
              message: `inline secrets are not accepted (${key}): use credential_env, credential_file or token_env`,
            });
          }
        }
      }
      return value;
    },
    z.strictObject({
      format: z
        .literal('iceberg')
        .describe('iceberg: commit each roll as an append snapshot of an Iceberg table.'),
      catalog,
      namespace: z
        .string()
        .min(1)
        .describe('Namespace of the table, levels separated by dots (created if absent).'),
      name: z
        .string()
        .min(1)
        .describe('Table name (created if absent, with the schema and partition spec of README).'),
      storage: storage
        .prefault({})
        .describe(
          "Where the table's data files go: the table's location in the catalog, over S3 with these settings.",
        ),
    }),
  )
  .optional()
  .describe('Commit the Parquet files to an Iceberg table (see README "Iceberg tables").');

export type TableConfig = NonNullable<z.output<typeof tableConfig>>;
