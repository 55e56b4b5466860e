import { describe, expect, it } from 'vitest';
import { displayUrl, scrubUrls } from './display-url.js';

describe('displayUrl', () => {
  it.each([
    ['https://user:pw@127.0.0.1:6443/?token=x', 'https://127.0.0.1:6443'],
    ['https://api.example:6443', 'https://api.example:6443'],
    ['https://host/k8s/clusters/c-1?x=1#frag', 'https://host/k8s/clusters/c-1'],
    ['http://proxy-user:proxy-pw@proxy.corp:3128', 'http://proxy.corp:3128'],
    ['socks5://u:p@127.0.0.1:1080/?q', 'socks5://127.0.0.1:1080'],
    ['https://cap.example/api/v1/credentials?agency=A&role=R', 'https://cap.example/api/v1/credentials'],
    ['https://u:p@[::1]:8443/p', 'https://[::1]:8443/p'],
    // Not parseable as a URL: cut by hand all the same.
    ['https://us er:p w@host name/x?y', 'https://host name/x'],
    ['user:pw@proxy:3128', 'proxy:3128'],
  ])('%s -> %s', (input, shown) => {
    expect(displayUrl(input)).toBe(shown);
  });

  it('takes a URL object', () => {
    expect(displayUrl(new URL('https://a:b@cap.example/x?role={role}'))).toBe('https://cap.example/x');
  });
});

describe('scrubUrls', () => {
  it('drops userinfo and query of every URL in a text, and leaves plain URLs and the rest alone', () => {
    expect(scrubUrls('proxy http://u:pw@p:3128/?t=1, then https://cap.example/api/v1/credentials.')).toBe(
      'proxy http://p:3128, then https://cap.example/api/v1/credentials.',
    );
    expect(scrubUrls('{"server":"https://u:pw@h:6443/?token=x","ok":1}')).toBe('{"server":"https://h:6443","ok":1}');
    expect(scrubUrls('no url here: a@b?c')).toBe('no url here: a@b?c');
  });
});
