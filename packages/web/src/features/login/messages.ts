import { defineMessages } from '../../app/i18n/define';

export default defineMessages(
  {
    'login.title': 'Sign in to mseg',
    'login.username': 'Username',
    'login.password': 'Password',
    'login.submit': 'Sign in',
    'login.required': 'Required',
    'login.badCredentials': 'Wrong username or password.',
    'login.rateLimited': 'Too many failed sign-ins. {message}',
  },
  {
    'login.title': '登录 mseg',
    'login.username': '用户名',
    'login.password': '密码',
    'login.submit': '登录',
    'login.required': '必填',
    'login.badCredentials': '用户名或密码错误。',
    'login.rateLimited': '登录失败次数过多。{message}',
  },
);
