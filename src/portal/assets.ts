import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { FastifyInstance } from 'fastify';

interface Asset {
  body: string;
  type: string;
  /** Part of the URL, so a new version is fetched at once and an old one can be cached for good. */
  version: string;
}

const load = (file: string, type: string): Asset => {
  const body = readFileSync(new URL(`./assets/${file}`, import.meta.url), 'utf8');
  return { body, type, version: createHash('sha256').update(body).digest('hex').slice(0, 12) };
};

const assets: Record<string, Asset> = {
  'portal.css': load('portal.css', 'text/css; charset=utf-8'),
  'portal.js': load('portal.js', 'text/javascript; charset=utf-8'),
};

/** Where a page links an asset: `/portal/assets/portal.<version>.css`. */
export const assetUrl = (file: 'portal.css' | 'portal.js'): string => {
  const dot = file.lastIndexOf('.');
  return `/portal/assets/${file.slice(0, dot)}.${assets[file].version}${file.slice(dot)}`;
};

/** The portal's one stylesheet and one script, from memory, cacheable forever under a versioned URL. */
export function assetRoutes(app: FastifyInstance): void {
  app.get<{ Params: { file: string } }>(
    '/assets/:file',
    { config: { portalPublic: true }, schema: { hide: true } },
    async (request, reply) => {
      const [, name, version, ext] = /^([a-z]+)\.([0-9a-f]+)\.([a-z]+)$/.exec(request.params.file) ?? [];
      const asset = assets[`${name}.${ext}`];
      if (!asset) return reply.status(404).type('text/plain').send('Not found');
      const current = version === asset.version;
      return reply
        .type(asset.type)
        .header('cache-control', current ? 'public, max-age=31536000, immutable' : 'no-cache')
        .send(asset.body);
    },
  );
}
