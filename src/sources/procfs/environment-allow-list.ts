// The environment variables a process snapshot keeps. The environment routinely holds secrets (tokens,
// passwords, keys), so it is never stored whole: only names on this list, chosen for what they tell a
// detection: loader hijacks (LD_*), interpreter injection (PYTHONPATH, NODE_OPTIONS, PERL5LIB, RUBYLIB),
// where a session came from (SSH_*, SUDO_*), containers, shell history tampering and proxies.

export const DEFAULT_ENVIRONMENT_ALLOW_LIST: readonly string[] = Object.freeze([
  'LD_PRELOAD', 'LD_LIBRARY_PATH', 'LD_AUDIT', 'LD_DEBUG', 'PATH', 'HOME', 'USER', 'SHELL',
  'SSH_CONNECTION', 'SSH_CLIENT', 'SUDO_USER', 'SUDO_COMMAND', 'container', 'KUBERNETES_SERVICE_HOST',
  'HISTFILE', 'HISTSIZE', 'HISTFILESIZE', 'PROMPT_COMMAND', 'PYTHONPATH', 'NODE_OPTIONS', 'PERL5LIB', 'RUBYLIB', 'http_proxy', 'https_proxy',
]);
