import { UserError } from '../../errors.js';

/** Key names that hold secrets (compared without case, `-` read as `_`): refused anywhere in mlpipe.yaml. */
const SECRET_KEYS = new Set([
  'password',
  'passwd',
  'pass',
  'secret',
  'token',
  'access_key',
  'access_key_id',
  'aws_access_key_id',
  'secret_key',
  'secret_access_key',
  'aws_secret_access_key',
  'session_token',
  'aws_session_token',
  'api_key',
  'private_key',
]);

/** Whether a key of mlpipe.yaml names a secret. */
export function isSecretKey(key: string): boolean {
  return SECRET_KEYS.has(key.toLowerCase().replaceAll('-', '_'));
}

/** Why a secret key is refused, and what to do instead. */
export function secretKeyProblem(key: string): { message: string; hint: string } {
  const aws = /access|secret|session|aws/i.test(key);
  return {
    message: `"${key}" is a secret, and secrets never go into mlpipe.yaml (it is shared and committed to git)`,
    hint: aws
      ? 'S3 credentials come from the standard AWS chain: AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY in the environment, or a profile in ~/.aws/credentials named by `profile:`'
      : 'name an environment variable in the URL instead, e.g. postgresql://ana:${env.PGPASSWORD}@db:5432/mlpipe (or leave the password out: PGPASSWORD is read too)',
  };
}

/** `${env.NAME}`: an environment variable named in a URL of mlpipe.yaml. */
export const ENV_REF_RE = /\$\{env\.([A-Za-z_][A-Za-z0-9_]*)\}/g;

/** Whether `value` names an environment variable as `${env.NAME}`. */
export const hasEnvRef = (value: string): boolean => /\$\{env\.[A-Za-z_][A-Za-z0-9_]*\}/.test(value);

/**
 * The problem with a URL written in mlpipe.yaml that holds a password itself (in the user-info part
 * or a `password=` query parameter) rather than naming a variable; undefined when there is none.
 */
export function urlSecretProblem(url: string): { message: string; hint: string } | undefined {
  const written = url.replace(ENV_REF_RE, '');
  const scheme = /^([a-z][a-z0-9+.-]*):\/\//i.exec(written);
  if (!scheme) return undefined;
  const rest = written.slice(scheme[0].length);
  const authority = rest.split(/[/?#]/, 1)[0];
  const at = authority.lastIndexOf('@');
  const userInfo = at >= 0 ? authority.slice(0, at) : '';
  const literal = userInfo.includes(':') && userInfo.slice(userInfo.indexOf(':') + 1) !== '';
  const inQuery = /[?&](password|sslpassword)=(?!&|$)/i.test(rest);
  if (!literal && !inQuery) return undefined;
  return {
    message: 'this URL holds a password, and secrets never go into mlpipe.yaml (it is shared and committed to git)',
    hint: `name an environment variable instead: ${scheme[1]}://USER:\${env.PGPASSWORD}@HOST/… (or leave the password out: PostgreSQL reads PGPASSWORD, Redis URLs take \${env.REDIS_PASSWORD})`,
  };
}

/** A `${env.NAME}` whose variable is not set. */
export class MissingEnvError extends UserError {
  constructor(variable: string, where: string) {
    super(`${where} names the environment variable ${variable} (\${env.${variable}}), which is not set`, {
      hint: `set ${variable} (export ${variable}=…), or override the setting in the environment or with its flag`,
    });
    this.name = 'MissingEnvError';
  }
}

/** `value` with each `${env.NAME}` replaced by the variable, percent-encoded (it sits in a URL). */
export function expandEnvRefs(value: string, env: NodeJS.ProcessEnv, where: string): string {
  return value.replace(ENV_REF_RE, (_, name: string) => {
    const v = env[name];
    if (v === undefined) throw new MissingEnvError(name, where);
    return encodeURIComponent(v);
  });
}
