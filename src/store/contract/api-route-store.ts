/** The contract of the ApiRouteStore. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { versionOf, withStores, type OpenStores } from './support.ts';

/** Every ApiRouteStore passes these. */
export function describeApiRouteStoreContract(open: OpenStores): void {
  describe('ApiRouteStore contract', () => {
    test("a function's routes are replaced as a whole, keep their creation time, and are listed by path", () =>
      withStores(open, async ({ functions, apiRoutes }) => {
        await functions.addVersion(versionOf('f', 1));
        const set = [
          { method: 'GET', path: '/b' },
          { method: 'POST', path: '/a/{id}' },
        ];
        assert.equal(await apiRoutes.setApiRoutes('f', set, 10), undefined);
        assert.equal(
          await apiRoutes.setApiRoutes(
            'f',
            [
              { method: 'GET', path: '/b' },
              { method: 'ANY', path: '/c' },
            ],
            20,
          ),
          undefined,
        );
        assert.deepEqual(await apiRoutes.listApiRoutes(), [
          { method: 'GET', path: '/b', function: 'f', createdAt: 10 },
          { method: 'ANY', path: '/c', function: 'f', createdAt: 20 },
        ]);
        assert.equal(await apiRoutes.setApiRoutes('f', [], 30), undefined);
        assert.deepEqual(await apiRoutes.listApiRoutes(), []);
      }));

    test("another function's route is refused and nothing is written", () =>
      withStores(open, async ({ functions, apiRoutes }) => {
        await functions.addVersion(versionOf('f', 1));
        await functions.addVersion(versionOf('g', 1));
        await apiRoutes.setApiRoutes('f', [{ method: 'GET', path: '/x' }], 1);
        const conflict = await apiRoutes.setApiRoutes(
          'g',
          [
            { method: 'GET', path: '/y' },
            { method: 'GET', path: '/x' },
          ],
          2,
        );
        assert.deepEqual(conflict, { method: 'GET', path: '/x', function: 'f', createdAt: 1 });
        assert.deepEqual(
          (await apiRoutes.listApiRoutes()).map((r) => `${r.method} ${r.path} ${r.function}`),
          ['GET /x f'],
        );
        // The same path under another method is another route.
        assert.equal(await apiRoutes.setApiRoutes('g', [{ method: 'POST', path: '/x' }], 3), undefined);
      }));

    test("a function's routes go when the function is deleted", () =>
      withStores(open, async ({ functions, apiRoutes }) => {
        await functions.addVersion(versionOf('f', 1));
        await apiRoutes.setApiRoutes('f', [{ method: 'GET', path: '/x' }], 1);
        await functions.deleteFunction('f');
        assert.deepEqual(await apiRoutes.listApiRoutes(), []);
      }));
  });
}
