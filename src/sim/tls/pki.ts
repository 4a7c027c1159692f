import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { HeapstreamError } from '../../component/errors.js';

const run = promisify(execFile);

/** A PEM certificate and key, on disk (for `*_file` config keys) and in memory (for servers). */
export interface CertPair {
  readonly certFile: string;
  readonly keyFile: string;
  readonly cert: Buffer;
  readonly key: Buffer;
}

/** A throw-away certificate authority and the certificates a test cluster needs, in one temp directory. */
export interface TestPki {
  readonly dir: string;
  readonly ca: CertPair;
  /** Kubelet serving certificate with the given IP and DNS SANs. */
  readonly kubelet: CertPair;
  /** Kubelet serving certificate naming only `dnsName` (no IP SAN), as many kubeadm clusters have. */
  readonly kubeletDnsOnly: CertPair;
  /** API server serving certificate for 127.0.0.1 and localhost. */
  readonly apiserver: CertPair;
  /** Client certificate (CN heapstream) signed by the CA. */
  readonly client: CertPair;
  /** A second CA that signed nothing here: configure it to provoke a CA mismatch. */
  readonly otherCa: CertPair;
  /** Client certificate CN `jane`, O `developers`, signed by the CA: a user of the client-ca-file. */
  readonly userClient: CertPair;
  /** The aggregation layer's CA (`requestheader-client-ca-file`), apart from the cluster CA as kubeadm makes it. */
  readonly frontProxyCa: CertPair;
  /** The aggregation layer's client certificate (CN `front-proxy-client`), signed by the front-proxy CA. */
  readonly frontProxyClient: CertPair;
  /** Signed by the front-proxy CA but CN `rogue-proxy`, a name no `requestheader-allowed-names` lists. */
  readonly frontProxyRogue: CertPair;
  /** CN `front-proxy-client`, signed by the front-proxy CA, but expired (not after < not before). */
  readonly frontProxyExpired: CertPair;
  readonly dnsName: string;
  /** Deletes the directory. */
  remove(): Promise<void>;
}

export interface TestPkiOptions {
  /** IP SANs of the kubelet certificate, e.g. the simulated nodes' loopback addresses. */
  readonly ipSans: readonly string[];
  /** The DNS name of the DNS-only kubelet certificate. Default `kubelet.sim.local`. */
  readonly dnsName?: string;
}

/**
 * Generates a CA and kubelet, API server and client certificates, and a front-proxy CA with its clients, with the `openssl` CLI (EC P-256, valid two
 * days) in a fresh temp directory. Test-time only: nothing is checked in.
 *
 * @example
 * const pki = await createTestPki({ ipSans: ['127.0.1.1'] });
 * https.createServer({ cert: pki.kubelet.cert, key: pki.kubelet.key }, handler);
 * await pki.remove();
 */
export async function createTestPki(options: TestPkiOptions): Promise<TestPki> {
  const dir = await mkdtemp(join(tmpdir(), 'heapstream-pki-'));
  const dnsName = options.dnsName ?? 'kubelet.sim.local';
  try {
    const ca = await selfSigned(dir, 'ca', 'heapstream-sim-ca');
    const otherCa = await selfSigned(dir, 'other-ca', 'some-other-ca');
    const ipList = options.ipSans.map((ip) => `IP:${ip}`);
    const kubelet = await signed(dir, 'kubelet', 'kubelet', ca, [...ipList, `DNS:${dnsName}`], 'serverAuth');
    const kubeletDnsOnly = await signed(dir, 'kubelet-dns', 'kubelet', ca, [`DNS:${dnsName}`], 'serverAuth');
    const apiserver = await signed(
      dir,
      'apiserver',
      'kube-apiserver',
      ca,
      ['IP:127.0.0.1', 'DNS:localhost'],
      'serverAuth',
    );
    const client = await signed(dir, 'client', 'heapstream', ca, [], 'clientAuth');
    const userClient = await signed(dir, 'user', 'jane/O=developers', ca, [], 'clientAuth');
    const frontProxyCa = await selfSigned(dir, 'front-proxy-ca', 'front-proxy-ca');
    const proxy = (name: string, cn: string, days = 2) =>
      signed(dir, name, cn, frontProxyCa, [], 'clientAuth', days);
    const frontProxyClient = await proxy('front-proxy-client', 'front-proxy-client');
    const frontProxyRogue = await proxy('front-proxy-rogue', 'rogue-proxy');
    // openssl takes a negative -days and writes not after = a day before not before: expired from the start.
    const frontProxyExpired = await proxy('front-proxy-expired', 'front-proxy-client', -1);
    return {
      dir,
      ca,
      otherCa,
      userClient,
      frontProxyCa,
      frontProxyClient,
      frontProxyRogue,
      frontProxyExpired,
      kubelet,
      kubeletDnsOnly,
      apiserver,
      client,
      dnsName,
      remove: () => rm(dir, { recursive: true, force: true }),
    };
  } catch (err) {
    await rm(dir, { recursive: true, force: true });
    throw new HeapstreamError(`cannot generate test certificates with openssl: ${(err as Error).message}`, {
      cause: err,
    });
  }
}

const KEY_ARGS = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];

async function selfSigned(dir: string, name: string, cn: string): Promise<CertPair> {
  const certFile = join(dir, `${name}.crt`);
  const keyFile = join(dir, `${name}.key`);
  await run('openssl', [
    'req',
    '-x509',
    ...KEY_ARGS,
    '-keyout',
    keyFile,
    '-out',
    certFile,
    '-days',
    '2',
    '-subj',
    `/CN=${cn}`,
  ]);
  return load(certFile, keyFile);
}

/** `subject` is the CN, optionally followed by more RDNs (`jane/O=developers`). */
async function signed(
  dir: string,
  name: string,
  subject: string,
  ca: CertPair,
  sans: readonly string[],
  usage: 'serverAuth' | 'clientAuth',
  days = 2,
): Promise<CertPair> {
  const certFile = join(dir, `${name}.crt`);
  const keyFile = join(dir, `${name}.key`);
  const csrFile = join(dir, `${name}.csr`);
  const extFile = join(dir, `${name}.ext`);
  const ext = ['basicConstraints=CA:FALSE', `extendedKeyUsage=${usage}`];
  if (sans.length > 0) ext.push(`subjectAltName=${sans.join(',')}`);
  await writeFile(extFile, ext.join('\n') + '\n');
  await run('openssl', ['req', ...KEY_ARGS, '-keyout', keyFile, '-out', csrFile, '-subj', `/CN=${subject}`]);
  await run('openssl', [
    'x509',
    '-req',
    '-in',
    csrFile,
    '-CA',
    ca.certFile,
    '-CAkey',
    ca.keyFile,
    '-CAcreateserial',
    '-out',
    certFile,
    '-days',
    String(days),
    '-extfile',
    extFile,
  ]);
  return load(certFile, keyFile);
}

async function load(certFile: string, keyFile: string): Promise<CertPair> {
  return { certFile, keyFile, cert: await readFile(certFile), key: await readFile(keyFile) };
}
