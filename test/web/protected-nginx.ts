/**
 * The nginx configuration of the README's "nginx (auth_request)" section, with the addresses filled
 * in: the tests run exactly this, so the README's copy is known to work.
 */
export function nginxForwardAuthConfig(options: { listen: number; serverName: string; famos: string; app: string }): string {
  return `
# FAMOS's session cookie is none of the application's business: drop it from what the app receives.
map $http_cookie $famos_app_cookie {
  default $http_cookie;
  "~^(?<before>(?:[^;]*;)*?)\\s*(?:__Secure-)?famos_session=[^;]*;?\\s*(?<after>.*)$" "$before$after";
}

server {
  listen 127.0.0.1:${options.listen};
  server_name ${options.serverName};

  # Asks FAMOS about every request: 200 with X-Famos-* headers, or 401.
  location = /_famos_auth {
    internal;
    proxy_pass ${options.famos}/auth/nginx;
    proxy_pass_request_body off;
    proxy_set_header Content-Length "";
    proxy_set_header X-Forwarded-Proto $scheme;
    proxy_set_header X-Forwarded-Host $http_host;
    proxy_set_header X-Forwarded-Uri $request_uri;
  }

  # Not signed in: to FAMOS's sign-in page, which brings the user back here after the code.
  location @famos_sign_in {
    return 302 $famos_login_url;
  }

  location / {
    auth_request /_famos_auth;
    auth_request_set $famos_login_id $upstream_http_x_famos_login_id;
    auth_request_set $famos_name $upstream_http_x_famos_name;
    auth_request_set $famos_partner $upstream_http_x_famos_partner;
    auth_request_set $famos_role $upstream_http_x_famos_role;
    auth_request_set $famos_login_url $upstream_http_x_famos_login_url;
    error_page 401 = @famos_sign_in;

    # proxy_set_header replaces every header of that name the client sent.
    proxy_set_header X-Famos-Login-Id $famos_login_id;
    proxy_set_header X-Famos-Name $famos_name;
    proxy_set_header X-Famos-Partner $famos_partner;
    proxy_set_header X-Famos-Role $famos_role;
    proxy_set_header Cookie $famos_app_cookie;
    proxy_set_header Host $http_host;
    proxy_pass ${options.app};
  }
}
`;
}
