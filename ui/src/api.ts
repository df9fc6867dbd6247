/** The web app's only way to the data: the HTTP API of `sapphire serve`, with the API key the user gave. */

const KEY_STORAGE = 'sapphire.apiKey';

/** An error answer of the API: `{"error": {"code", "message", "details"}}`. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly hint: string | null,
  ) {
    super(message);
  }
}

/** The API key kept in this browser (none with `sapphire ui`, which serves without keys on 127.0.0.1). */
export function apiKey(): string | null {
  return localStorage.getItem(KEY_STORAGE);
}

/** Keeps (or with null forgets) the API key. */
export function setApiKey(key: string | null): void {
  if (key) localStorage.setItem(KEY_STORAGE, key);
  else localStorage.removeItem(KEY_STORAGE);
}

/** Calls the API: GET without a body, POST with a JSON body; throws {@link ApiError} on an error answer. */
export async function api<T>(path: string, body?: unknown): Promise<T> {
  const headers: Record<string, string> = {};
  const key = apiKey();
  if (key) headers.authorization = `Bearer ${key}`;
  if (body !== undefined) headers['content-type'] = 'application/json';
  const response = await fetch(path, {
    method: body === undefined ? 'GET' : 'POST',
    headers,
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await response.text();
  const json = text ? (JSON.parse(text) as unknown) : null;
  if (!response.ok) {
    const error = (
      json as { error?: { code?: string; message?: string; details?: { hint?: string } } } | null
    )?.error;
    throw new ApiError(
      response.status,
      error?.code ?? 'HTTP',
      error?.message ?? `${response.status} ${response.statusText}`,
      error?.details?.hint ?? null,
    );
  }
  return json as T;
}

/** `?a=1&b=x` from an object, skipping undefined and empty values. */
export function query(params: Record<string, string | number | boolean | undefined | null>): string {
  const search = new URLSearchParams();
  for (const [k, v] of Object.entries(params))
    if (v !== undefined && v !== null && v !== '') search.set(k, String(v));
  const s = search.toString();
  return s ? `?${s}` : '';
}
